"""Versioning on, but no default encryption configured on the bucket."""

STEP = "store-dataset"
HINT = "encryption"


def apply(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="orientation-data")
    s3.put_bucket_versioning(
        Bucket="orientation-data", VersioningConfiguration={"Status": "Enabled"}
    )
    data = ctx.starter_file("data/customers.csv").read_bytes()
    s3.put_object(Bucket="orientation-data", Key="raw/customers.csv", Body=data)
