"""Prefect and MLflow on PostgreSQL, as a team runs them: a throwaway cluster from Debian's packages.

The test makes a cluster with initdb in a temporary folder (as the `postgres` user when run as root),
starts the same stack as `make up` with PREFECT_API_DATABASE_CONNECTION_URL and the MLflow backend
pointing at it, then reads PostgreSQL's own tables to see the deployments, a completed flow run, an
MLflow run and a registered model version stored there.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from releasepilot.deployments import read_deployments
from releasepilot.stack import StackConfig, start_stack, stop_stack

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
PG_USER = "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql; see .ci/debian-packages)")
    return Path(found[-1]).parent


def _as_cluster_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture
def postgres():
    """A PostgreSQL cluster on a free port with trust auth for local TCP; yields the port."""
    bindir, port = _pg_bin(), _free_port()
    root = Path(tempfile.mkdtemp(prefix="releasepilot-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(PG_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"
    subprocess.run(_as_cluster_owner([str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust",
                                      "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_cluster_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
                                      "-w", "-t", "60", "start"]), check=True, capture_output=True)
    try:
        yield port
    finally:
        subprocess.run(_as_cluster_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), check=False,
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _sql(port: int, database: str, query: str) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname=database)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(query)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def _run_flow_against(api_url: str) -> str:
    from prefect import flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    @flow(name="postgres_backend_check")
    def check(x: int) -> int:
        return x * 2

    with temporary_settings({PREFECT_API_URL: api_url}):
        state = check(21, return_state=True)
    assert state.result() == 42
    return str(state.state_details.flow_run_id)


def _log_and_register(tracking_uri: str) -> str:
    import mlflow
    import numpy as np
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)          # earlier tests in the session may have set another one
    mlflow.set_experiment("postgres-backend-check")
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    with mlflow.start_run() as run:
        mlflow.log_param("model", "logistic")
        mlflow.log_metric("accuracy", float(model.score(x, [0, 0, 1, 1])))
        mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                 registered_model_name="postgres-check-model")
    MlflowClient().set_registered_model_alias("postgres-check-model", "champion", "1")
    loaded = mlflow.sklearn.load_model("models:/postgres-check-model@champion")
    assert list(loaded.predict(x)) == [0, 0, 1, 1]
    return run.info.run_id


@pytest.mark.timeout(900)
def test_prefect_and_mlflow_store_everything_in_postgresql(postgres, tmp_path):
    port = postgres
    for database in ("prefect", "mlflow"):
        _sql(port, "postgres", f"create database {database}")
    env = {"RELEASEPILOT_PREFECT_PORT": str(_free_port()), "RELEASEPILOT_MLFLOW_PORT": str(_free_port()),
           "RELEASEPILOT_RUN_DIR": str(tmp_path / "run"),
           "RELEASEPILOT_MLFLOW_ARTIFACTS": str(tmp_path / "mlartifacts"),
           "RELEASEPILOT_MLFLOW_BACKEND_URI": f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{port}/mlflow",
           "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/prefect"}
    config = StackConfig.from_env(env, dashboard=False, extra_env={
        "RELEASEPILOT_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'unused.db'}"})
    try:
        began = time.monotonic()
        report = start_stack(config)
        print(f"\nstack on PostgreSQL up in {time.monotonic() - began:.1f} s: {report.as_dict()['seconds']}")
        flow_run_id = _run_flow_against(config.prefect_api_url)
        run_id = _log_and_register(config.mlflow_url)
    finally:
        stopped = stop_stack(config)
    assert all(not what.startswith("killed") for what in stopped.values()), stopped

    # Prefect's tables in PostgreSQL: every deployment of prefect.yaml, the automation and the flow run.
    deployments = {name for (name,) in _sql(port, "prefect", "select name from deployment")}
    assert deployments == {spec.name for spec in read_deployments(REPO)}
    assert ("build-features-after-ingest",) in _sql(port, "prefect", "select name from automation")
    assert _sql(port, "prefect", "select f.name, r.state_type from flow_run r join flow f on f.id = r.flow_id "
                                 f"where r.id = '{flow_run_id}'") == [("postgres_backend_check", "COMPLETED")]
    assert _sql(port, "prefect", "select count(*) from work_pool where name = 'releasepilot' and type = 'process'"
                ) == [(1,)]

    # MLflow's tables in PostgreSQL: the run with its metric, and version 1 of the model under @champion.
    assert _sql(port, "mlflow", f"select status from runs where run_uuid = '{run_id}'") == [("FINISHED",)]
    assert _sql(port, "mlflow", f"select key, value from metrics where run_uuid = '{run_id}'") == [("accuracy", 1.0)]
    assert _sql(port, "mlflow", "select name, version, run_id from model_versions") == [
        ("postgres-check-model", 1, run_id)]
    assert _sql(port, "mlflow", "select alias, version from registered_model_aliases") == [("champion", 1)]
    assert any((tmp_path / "mlartifacts").rglob("MLmodel")), "the model's files went to the artifact store"
