"""Splink 5 (DuckDB) on the benchmark leads, configured as its documentation recommends.

Usage: splink_run.py LEADS.csv PAIRS.csv CLUSTERS.csv THREADS THRESHOLD [WORKDIR]

Following Splink's guidance for large jobs ("Optimising DuckDB", "Top tips: working with large
datasets"): the CSV is read and cleaned by DuckDB's own reader and SQL rather than pandas,
results are written with DuckDB's COPY rather than converted to pandas, and the connection gets
an explicit `memory_limit` (SPLINK_MEMORY_LIMIT, default 12GB: headroom on a 24 GB machine) with
an on-disk `temp_directory` under WORKDIR so that DuckDB spills instead of failing. The trained
model and the estimated prior are saved next to the pairs for inspection.
"""
import json
import os
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

leads, pairs_out, clusters_out, threads, threshold = sys.argv[1:6]
workdir = sys.argv[6] if len(sys.argv) > 6 else os.path.join(os.path.dirname(pairs_out), "splink_tmp")
threshold = float(threshold)
memory_limit = os.environ.get("SPLINK_MEMORY_LIMIT", "12GB")
os.makedirs(workdir, exist_ok=True)
started = time.time()


def step(what):
    print(f"[{time.time() - started:7.1f}s] {what}", flush=True)


con = duckdb.connect(":memory:")


def sql(text):
    """Runs a statement to completion (DuckDB 2 refuses new work while a result is pending)."""
    return con.execute(text).fetchall()


sql(f"SET threads TO {int(threads)}")
sql(f"SET memory_limit = '{memory_limit}'")
sql(f"SET temp_directory = '{workdir}'")
# Splink's guidance is to clean data before linking: lower case, digits-only phones, nulls for
# empty values. Done in SQL, as the guidance for large datasets recommends.
sql(
    f"""
    CREATE TABLE leads AS
    SELECT id AS unique_id,
           nullif(lower(trim(first_name)), '') AS first_name,
           nullif(lower(trim(last_name)), '') AS last_name,
           nullif(lower(trim(email)), '') AS email,
           nullif(right(regexp_replace(phone, '\\D', '', 'g'), 10), '') AS phone,
           nullif(lower(trim(company)), '') AS company,
           nullif(lower(trim(address)), '') AS address,
           nullif(trim(postcode), '') AS postcode
    FROM read_csv('{leads}', all_varchar = true, header = true)
    """
)
step(f"loaded {sql('SELECT count(*) FROM leads')[0][0]} records")

db_api = DuckDBAPI(connection=con)
settings = SettingsCreator(
    link_type="dedupe_only",
    comparisons=[
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.EmailComparison("email"),
        cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("company", [0.9, 0.8]),
        cl.JaroWinklerAtThresholds("address", [0.9, 0.8]),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
    ],
    # Many strict rules, as the modelling tips recommend; their comparison counts are printed
    # by bench/match/run.sh's log before predict (see the README for 100k and 1M).
    blocking_rules_to_generate_predictions=[
        block_on("email"),
        block_on("phone"),
        block_on("first_name", "last_name"),
        block_on("last_name", "postcode"),
        block_on("first_name", "company"),
    ],
    retain_intermediate_calculation_columns=False,
)
linker = Linker(db_api.register("leads"), settings)

# The prior from deterministic rules that admit very few false positives (email; full name
# within a postcode), with their estimated recall.
linker.training.estimate_probability_two_random_records_match(
    [block_on("email"), block_on("first_name", "last_name", "postcode")], recall=0.7
)
step("estimated the prior")
linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
step("estimated u")
# EM sessions: each comparison is left out of the session blocked on it, so two sessions
# (full name; email) already train every comparison. EM_MAX_PAIRS caps each session's blocked
# pairs with Splink 5's own sampling (the full-name block grows quadratically with size).
em_max_pairs = float(os.environ.get("SPLINK_EM_MAX_PAIRS", "1e7"))
for columns in [("first_name", "last_name"), ("email",)]:
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(*columns), max_pairs=em_max_pairs
    )
    step(f"EM session blocked on {' + '.join(columns)}")
linker.misc.save_model_to_json(pairs_out + ".model.json", overwrite=True)
model = json.load(open(pairs_out + ".model.json"))
print(f"prior (probability two random records match): {model['probability_two_random_records_match']:.3e}")

pred = linker.inference.predict(threshold_match_probability=threshold)
step("predicted")
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold)
step("clustered")
sql(
    f"""COPY (SELECT unique_id_l AS id_l, unique_id_r AS id_r, match_probability, match_weight
              FROM {pred.physical_name}) TO '{pairs_out}' (HEADER, DELIMITER ',')"""
)
sql(
    f"""COPY (SELECT unique_id AS id, cluster_id FROM {clusters.physical_name})
        TO '{clusters_out}' (HEADER, DELIMITER ',')"""
)
n_pairs = sql(f"SELECT count(*) FROM {pred.physical_name}")[0][0]
n_clusters = sql(f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}")[0][0]
step(f"splink: {n_pairs} pairs, {n_clusters} clusters")
