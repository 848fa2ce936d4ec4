"""`orderlint spark`: lint a FHIR Bulk Data export on Apache Spark (the optional `spark` extra).

`args` registers the command and imports nothing heavy; `job` (the pipeline) and `worker` (what runs in the
Python workers) import pyspark and pandas, and are imported only when the command runs.
"""
