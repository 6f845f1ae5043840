"""The ledger: per AWS service, what the sandbox really does and where it differs from AWS.

``moto``  - the control plane is moto's emulation (resources are stored and described);
``real``  - crosstrain runs it for real (code executes, queries compute answers);
``stub``  - calls succeed but nothing happens behind them; do not rely on the result.
Labs and the site read this table; keep it honest when a runtime lands.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MODES = ("real", "moto", "stub")


@dataclass(frozen=True)
class Entry:
    service: str
    mode: str
    note: str

    def as_dict(self) -> dict:
        return asdict(self)


LEDGER: tuple[Entry, ...] = (
    Entry(
        "s3",
        "moto",
        "Buckets, objects, versioning, SSE, multipart, presigned URLs (moto). Bucket policies "
        "are evaluated by crosstrain on every bucket and object request as AWS evaluates them: "
        "Action/NotAction, Resource/NotResource, Principal/NotPrincipal and every IAM condition "
        "operator, with keys from the request (aws:SecureTransport, aws:SourceIp, "
        "aws:PrincipalAccount/Arn, s3:prefix, s3:x-amz-* headers, ...). Plain HTTP to the sandbox "
        "counts as secure transport unless CROSSTRAIN_SECURE_TRANSPORT=tls-only. Unknown "
        "condition keys are treated as missing (AWS's rule) and announced in the log and "
        "/_crosstrain/health. Malformed notification ARNs answer 400. Block Public Access and "
        "ACLs do not change a policy's decision; S3 Select is not implemented. "
        "Event notifications are delivered for real (crosstrain): "
        "to Lambda, SQS, SNS and EventBridge, with AWS's record JSON, prefix/suffix filters and "
        "the s3:TestEvent; a missing destination or a function without a permission for "
        "s3.amazonaws.com is refused at configuration, as S3 does (queue and topic policies are "
        "not checked).",
    ),
    Entry(
        "iam",
        "moto",
        "Users, roles, policies, keys. AWS-managed policies load when a request first names "
        "them (ListPolicies --scope AWS lists those loaded). Enforcement only with --enforce-iam "
        "(the admin key `test` always passes); without it Lambda accepts role ARNs that do not "
        "exist, as LocalStack does. SimulatePrincipalPolicy and SimulateCustomPolicy answer "
        "allowed / explicitDeny / implicitDeny with matched statements. Enforcement, the "
        "simulator and bucket policies share one evaluator (Action/NotAction, Resource/"
        "NotResource wildcards and policy variables, every IAM condition operator; identity "
        "policies see the request's global aws:* keys). SCPs and session policies are ignored. "
        "Under --enforce-iam, Lambda, training-job and endpoint code calls with its role's "
        "credentials (the role must trust the service) and every decision is in the call log "
        "(GET /_crosstrain/calls, /_crosstrain/decisions).",
    ),
    Entry("sts", "moto", "GetCallerIdentity, AssumeRole across account ids."),
    Entry(
        "dynamodb",
        "moto",
        "Tables, items, queries, streams. PartiQL parsing is fragile "
        "(write `pk = 'u1'` with spaces).",
    ),
    Entry(
        "sqs",
        "moto",
        "Queues, messages, visibility timeouts, dead-letter queues (redrive after "
        "maxReceiveCount); timers run on the sandbox clock, so advancing it expires visibility "
        "timeouts.",
    ),
    Entry(
        "sns",
        "real",
        "Topics and subscriptions (moto); delivery by crosstrain's engine to Lambda (needs a "
        "permission for sns.amazonaws.com, checked at delivery), SQS (raw or enveloped) and "
        "HTTP(S) on 127.0.0.1 only, with filter policies. HTTP subscriptions are confirmed at "
        "once; messages are not signed with a real certificate; no SMS, email or mobile push.",
    ),
    Entry(
        "kinesis",
        "moto",
        "Streams, shards and records (moto); Lambda event source mappings on a stream deliver "
        "for real (see lambda).",
    ),
    Entry("firehose", "moto", "Delivery streams to S3."),
    Entry(
        "events",
        "real",
        "EventBridge rules on the default and custom buses match events to AWS's pattern "
        "grammar (prefix, suffix, anything-but, numeric, exists, wildcard, $or, "
        "equals-ignore-case, cidr); targets Lambda, SQS, SNS, Step Functions, other buses and "
        "log groups, with Input, InputPath and InputTransformer, RetryPolicy and target DLQs. "
        "Schedules (rate, cron with ? L W #, at) fire on the sandbox clock. Bad patterns and "
        "schedule expressions are refused at PutRule. Archives, replays, API destinations, "
        "Pipes and EventBridge Scheduler are not served.",
    ),
    Entry("secretsmanager", "moto", "Secrets and versions; rotation Lambdas do not run."),
    Entry("ssm", "moto", "Parameter Store."),
    Entry("kms", "moto", "Keys, encrypt/decrypt, sign/verify (not real KMS cryptography)."),
    Entry("logs", "moto", "Groups, streams, put/get/filter; Logs Insights only partly."),
    Entry(
        "cloudwatch",
        "real",
        "Metrics and statistics (moto). Metric alarms evaluate (crosstrain) on the sandbox "
        "clock (period, statistic or percentile, EvaluationPeriods, DatapointsToAlarm, "
        "TreatMissingData, the four threshold comparisons), and so do metric-math alarms (+ - * "
        "/ ^, SUM/AVG/MIN/MAX, METRICS(), ABS/CEIL/FLOOR/FILL) and composite alarms (ALARM/OK/"
        "INSUFFICIENT_DATA, TRUE/FALSE, AND/OR/NOT); OK/ALARM/INSUFFICIENT_DATA with "
        "DescribeAlarmHistory and SNS actions. Anomaly-detection alarms, SEARCH/IF/other math "
        "functions, Metrics Insights queries and ActionsSuppressor are refused at put with a "
        "ValidationError; Auto Scaling/EC2 actions do nothing.",
    ),
    Entry(
        "lambda",
        "real",
        "Invoke (RequestResponse, Event, DryRun) runs python3.x zip functions in warm worker "
        "processes on the sandbox's own Python (crosstrain's packages importable like a layer); "
        "timeouts, memory limit, crashes, logs and metrics as AWS shapes them. Function URLs "
        "answer. Event invocations go through the delivery engine: 2 retries (1 then 2 minutes "
        "apart on the sandbox clock), MaximumRetryAttempts, MaximumEventAgeInSeconds, "
        "on-success/on-failure destinations and DeadLetterConfig (not echoed by "
        "GetFunctionConfiguration); recursive loops stop after 16 levels. SQS event source "
        "mappings poll (batch size, batching window, filter criteria, ReportBatchItemFailures); "
        "DynamoDB and Kinesis stream mappings share a shard poller (shard order, BatchSize, "
        "batching window, TRIM_HORIZON/LATEST/AT_TIMESTAMP, MaximumRetryAttempts, "
        "BisectBatchOnFunctionError, ReportBatchItemFailures, on-failure SQS/SNS destination, "
        "MaximumRecordAgeInSeconds, LastProcessingResult; not ParallelizationFactor, tumbling "
        "windows or enhanced fan-out). No other runtimes or "
        "container images; the handler runs with the sandbox's admin key, not its execution role.",
    ),
    Entry(
        "apigateway",
        "real",
        "REST APIs with AWS_PROXY (Lambda proxy, payload 1.0) answer at "
        "/restapis/{id}/{stage}/_user_request_/... and {id}.execute-api.localhost.localstack."
        "cloud. Other integration types, authorizers, API keys and usage plans are not enforced.",
    ),
    Entry(
        "apigatewayv2",
        "real",
        "HTTP APIs with AWS_PROXY (payload 2.0 or 1.0) answer on the same URL forms and at "
        "the apiEndpoint the API returns; $default and named stages; quick create (Target). "
        "Authorizers and CORS are not applied.",
    ),
    Entry(
        "sagemaker",
        "real",
        "Endpoints serve model.tar.gz from sandbox S3 with the inference-toolkit handlers "
        "(code/inference.py, or scikit-learn / TorchScript / XGBoost defaults) in local worker "
        "processes "
        "on the sandbox's Python: no containers, Image and instance types are ignored, "
        "requirements.txt is not installed, each variant runs min(instance count, 2) workers. "
        "Variants, weights, UpdateEndpoint (blue/green), ModelError, logs and metrics work; "
        "async, serverless scaling, multi-model and data capture do not, nor models the SDK's "
        "ModelBuilder(model=<object>) packages (code/serve.pkl, the SDK's own model server): "
        "the endpoint fails saying so. Training jobs run "
        "script mode (sagemaker_program + sagemaker_submit_directory, the SDK v2 estimators) or "
        "a ContainerEntrypoint (the SDK v3 ModelTrainer's sm_drivers launcher) as one local "
        "process on the sandbox's Python (algo-1; /opt/ml mapped to the job's folder; no "
        "distributed training, no GPUs, File input mode). Image URIs (ECR, any account) are "
        "accepted and never pulled: every image maps to this local serving and training. "
        "Processing, transform and tuning jobs are stubs that run nothing. ListTrainingJobs "
        "filters, sorts and pages as AWS does; DeleteTrainingJob forgets a finished job; "
        "Describe/List replies leave out unset structures as AWS does. The SageMaker Python SDK "
        "v2 and v3 run unchanged (docs/sandbox/sagemaker-sdk.md). After a restart, endpoints, "
        "their configs, variant weights and training job records are kept; a job running at "
        "the stop is Failed.",
    ),
    Entry(
        "athena",
        "real",
        "Queries run for real (DuckDB) over Glue tables in sandbox S3: Parquet, ORC, CSV/TSV "
        "(LazySimpleSerDe, OpenCSVSerde), JSON lines; registered partitions, pruned by WHERE. "
        "SQL is parsed with sqlglot's Athena dialect (Hive DDL, Trino queries: UNNEST, lambdas, "
        "window functions, date_format/date_parse, TRY_CAST) and translated for DuckDB; "
        "SELECT/WITH/joins, SHOW, DESCRIBE, CREATE EXTERNAL TABLE, CTAS, INSERT INTO, views, "
        "CREATE/DROP DATABASE, DROP TABLE, MSCK REPAIR TABLE, ALTER TABLE ADD/DROP PARTITION, "
        "UNLOAD. Some functions and error texts differ; Iceberg, EXPLAIN, prepared statements "
        "and federated catalogs are not supported; no .metadata file. Query history and named "
        "queries survive a restart (rows are read back from the result files). Both wire "
        "protocols botocore has used are served (json, and rest-json since botocore 1.44.18).",
    ),
    Entry(
        "glue", "moto", "Data catalog (databases, tables, partitions); jobs and crawlers are stubs."
    ),
    Entry(
        "stepfunctions",
        "real",
        "Executions run on moto's ASL interpreter (LocalStack's): every state type, Retry/Catch, "
        "InputPath/Parameters/ResultSelector/ResultPath/OutputPath, intrinsic functions, JSONata, "
        "GetExecutionHistory. Tasks call the sandbox: Lambda (crosstrain's runtime), DynamoDB, "
        "SQS, SNS, EventBridge, aws-sdk:*, SageMaker (createTrainingJob/createTransformJob with "
        ".sync, createModel/EndpointConfig/Endpoint). Wait states and retry intervals run on "
        "the sandbox clock. Running executions do not resume after a restart; Activities, "
        "Express workflows' logging and distributed Map over S3 are untested.",
    ),
    Entry(
        "cloudformation",
        "moto",
        "About 100 resource types (moto's) plus Glue::Database, Glue::Table, S3::BucketPolicy, "
        "Lambda::Url, ApiGateway::Stage, ApiGatewayV2::Api/Stage (HTTP APIs) and CDK::Metadata "
        "(crosstrain's), created "
        "synchronously; a RestApi Body (OpenAPI/Swagger) is imported. A stack with any "
        "other type fails (ROLLBACK_COMPLETE, or UPDATE_ROLLBACK_COMPLETE for an update) with a "
        "reason naming the type; `crosstrain sandbox services --cloudformation-types` lists "
        "both kinds. TemplateURL is read from the sandbox's S3, in any S3 URL style. Change "
        "sets give the stack its outputs, parameters and per-resource events; one that changes "
        "nothing ends FAILED. SAM templates "
        "(AWS::Serverless-2016-10-31) are expanded by aws-sam-translator; the stack keeps the "
        "expanded template; Api and HttpApi events answer. The AWS CDK (cdk and "
        "cdklocal) bootstraps, deploys and destroys; bootstrap roles are not assumed.",
    ),
    Entry("ecr", "stub", "API only; there is no registry to push images to."),
)


def ledger(with_protocols: bool = True) -> list[dict]:
    """The ledger as plain dicts, sorted by service, each with the wire protocols served."""
    from crosstrain.sandbox.core.protocols import served

    entries = [e.as_dict() for e in sorted(LEDGER, key=lambda e: e.service)]
    if with_protocols:
        for entry in entries:
            entry["protocols"] = served(entry["service"])
    return entries


def entry(service: str) -> Entry | None:
    return next((e for e in LEDGER if e.service == service), None)
