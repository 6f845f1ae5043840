"""Versioning never turned on: an overwrite or a delete would lose the data for good."""

STEP = "store-dataset"
HINT = "versioning"


def apply(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="orientation-data")
    s3.put_bucket_encryption(
        Bucket="orientation-data",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    data = ctx.starter_file("data/customers.csv").read_bytes()
    s3.put_object(Bucket="orientation-data", Key="raw/customers.csv", Body=data)
