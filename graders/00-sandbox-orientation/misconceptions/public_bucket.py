"""A public bucket: versioned and encrypted, but its ACL lets anyone on the internet read it."""

STEP = "store-dataset"
HINT = "public"


def apply(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="orientation-data", ACL="public-read")
    s3.put_bucket_versioning(
        Bucket="orientation-data", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_bucket_encryption(
        Bucket="orientation-data",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    data = ctx.starter_file("data/customers.csv").read_bytes()
    s3.put_object(Bucket="orientation-data", Key="raw/customers.csv", Body=data)
