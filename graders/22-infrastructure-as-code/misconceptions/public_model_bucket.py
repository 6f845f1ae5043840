"""A bucket policy lets anyone download the models ("so the dashboard can read them")."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-stack"
HINT = "public"
POLICY = """
  ModelBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ModelBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: !Sub ${ModelBucket.Arn}/*

Outputs:"""


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    lab = helpers.solves(ctx)
    lab.create_stack(ctx, lab.replace(helpers.template(ctx), "\nOutputs:", POLICY))
