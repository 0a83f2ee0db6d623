{#- Shannon entropy (bits) of a churn distribution, as one aggregate over rows that each hold one part
    (e.g. one file's la + ld): H = -sum(p log2 p), p = c / T, rewritten as log2(T) - sum(c log2 c) / T.
    Parts of 0 contribute nothing; the entropy of an empty or all-zero distribution is 0. -#}
{% macro churn_entropy(expr) -%}
    {%- set part = '(' ~ expr ~ ')' -%}
    coalesce(
        greatest(
            log2(nullif(sum(greatest({{ part }}, 0)), 0)::double)
            - sum(case when {{ part }} > 0 then {{ part }} * log2({{ part }}::double) else 0 end)
              / nullif(sum(greatest({{ part }}, 0)), 0)::double,
            0.0),
        0.0)
{%- endmacro %}
