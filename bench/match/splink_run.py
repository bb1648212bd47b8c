"""Splink 5 (DuckDB) on the benchmark leads, configured as its documentation recommends.

Usage: splink_run.py LEADS.csv PAIRS.csv CLUSTERS.csv THREADS THRESHOLD
"""
import sys

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

leads, pairs_out, clusters_out, threads, threshold = sys.argv[1:6]
threshold = float(threshold)

df = pd.read_csv(leads, dtype=str, keep_default_na=False)
df = df.drop(columns=["true_entity"]).rename(columns={"id": "unique_id"})
# Splink's guidance is to clean data before linking: lower case, digits-only phones, nulls.
for c in ["first_name", "last_name", "email", "company", "address", "postcode"]:
    df[c] = df[c].str.strip().str.lower()
df["phone"] = df["phone"].str.replace(r"\D", "", regex=True).str[-10:]
df = df.replace({"": None})

con = duckdb.connect()
con.execute(f"SET threads TO {int(threads)}")
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
    blocking_rules_to_generate_predictions=[
        block_on("email"),
        block_on("phone"),
        block_on("first_name", "last_name"),
        block_on("last_name", "postcode"),
        block_on("first_name", "company"),
    ],
    retain_intermediate_calculation_columns=False,
)
sdf = db_api.register(df)
linker = Linker(sdf, settings)
linker.training.estimate_probability_two_random_records_match(
    [block_on("email"), block_on("first_name", "last_name", "postcode")], recall=0.7
)
linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
pred = linker.inference.predict(threshold_match_probability=threshold)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold)
p = pred.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]]
p.columns = ["id_l", "id_r", "match_probability", "match_weight"]
p.to_csv(pairs_out, index=False)
c = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
c.columns = ["id", "cluster_id"]
c.to_csv(clusters_out, index=False)
print(f"splink: {len(p)} pairs, {c['cluster_id'].nunique()} clusters")
