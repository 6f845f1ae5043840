#!/usr/bin/env node
// A cloud engineer's first CDK app: uploads land in a bucket, a Python function records each one
// and queues a job for it. Plain aws-cdk-lib, nothing sandbox-specific.
const path = require("path");
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");
const s3 = require("aws-cdk-lib/aws-s3");
const sqs = require("aws-cdk-lib/aws-sqs");

class IngestStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const uploads = new s3.Bucket(this, "Uploads", {
      versioned: true,
      enforceSSL: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const jobs = new sqs.Queue(this, "Jobs", { visibilityTimeout: cdk.Duration.seconds(30) });
    const handler = new lambda.Function(this, "Ingest", {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: "handler.main",
      code: lambda.Code.fromAsset(path.join(__dirname, "..", "lambda")),
      timeout: cdk.Duration.seconds(10),
      environment: { BUCKET: uploads.bucketName, QUEUE_URL: jobs.queueUrl },
    });
    uploads.grantReadWrite(handler);
    jobs.grantSendMessages(handler);
    new cdk.CfnOutput(this, "FunctionName", { value: handler.functionName });
    new cdk.CfnOutput(this, "BucketName", { value: uploads.bucketName });
    new cdk.CfnOutput(this, "QueueUrl", { value: jobs.queueUrl });
  }
}

const app = new cdk.App();
new IngestStack(app, process.env.STACK_NAME || "IngestStack");
