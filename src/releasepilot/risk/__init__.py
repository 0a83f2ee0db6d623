"""Risk models: change-risk and release-risk CatBoost models, their training, registry and scoring.

Public surface (import the submodules; nothing heavy is imported here):
`spec.load_specs`, `train.train_all`, `registry.log_and_register`, `registry.load_by_alias`,
`registry.list_models`, `scoring.score_releases`, `scoring.score_pending`, `evaluate.evaluate_csv`.
"""
