"""The two shard-based event sources the stream poller reads: DynamoDB streams and Kinesis.

moto records both (a table's ``StreamShard``, a stream's ``Shard`` records) and would hand every
new record to Lambda through Docker; :func:`install` makes those hand-overs see no mappings (so
nothing is dropped into Docker) and stamps records on the sandbox clock, and
:class:`~.stream_poller.StreamPoller` reads the shards instead. A :class:`Source` tells the
poller, for one kind of stream, which shards a mapping reads, what a record looks like in the
Lambda event (AWS's shape), a record's sequence number and arrival time, and how the on-failure
destination describes a batch.
"""

from __future__ import annotations

import calendar
import itertools
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class _Inert(dict):
    """A mapping table moto's Docker hand-over iterates and finds empty."""

    def items(self):
        return []

    def __reduce__(self):
        return (_Inert, (dict(self),))


DYNAMODB_SHARD = "shardId-00000001541626099285-f35f62ef"  # moto's one shard per table stream
_CLOCK: dict = {}  # "clock" -> the sandbox clock
_installed = False


def install(clock) -> None:
    """Stop moto's DynamoDB and Kinesis models from handing records to Lambda themselves, and
    stamp their records on the sandbox clock (so record ages and batching windows move with it)."""
    global _installed
    _CLOCK["clock"] = clock
    if _installed:
        return
    _installed = True
    from moto.dynamodb.models import table as dynamodb_tables
    from moto.dynamodb.models.table import Table
    from moto.kinesis import models as kinesis_models
    from moto.kinesis.models import Stream

    def get(self):
        return self.__dict__.setdefault("_crosstrain_esms", _Inert())

    def set_(self, value):
        self.__dict__["_crosstrain_esms"] = _Inert(value or {})

    def sandbox_utcnow() -> datetime:
        return datetime.fromtimestamp(_CLOCK["clock"].time(), UTC).replace(tzinfo=None)

    dynamodb_tables.utcnow = sandbox_utcnow
    kinesis_models.utcnow = sandbox_utcnow
    for model in (Table, Stream):
        model.lambda_event_source_mappings = property(get, set_)
    _require_starting_position()


def _require_starting_position() -> None:
    """A stream mapping needs ``StartingPosition`` on AWS (moto would assume TRIM_HORIZON)."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self, spec):
        if source_for(spec.get("EventSourceArn") or "") is not None:
            position = spec.get("StartingPosition")
            if position not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
                raise InvalidParameterValueException(
                    "StartingPosition is required for a Kinesis or DynamoDB stream event source: "
                    "TRIM_HORIZON, LATEST or AT_TIMESTAMP"
                )
            if position == "AT_TIMESTAMP" and spec.get("StartingPositionTimestamp") is None:
                raise InvalidParameterValueException(
                    "StartingPositionTimestamp is required with StartingPosition AT_TIMESTAMP"
                )
        return original(self, spec)

    LambdaBackend.create_event_source_mapping = create_event_source_mapping


@dataclass
class Shard:
    id: str
    records: list  # moto's records, oldest first


def epoch(moment: Any) -> float:
    """Epoch seconds of a moto timestamp (naive datetimes are UTC) or a number."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            return calendar.timegm(moment.timetuple()) + moment.microsecond / 1e6
        return moment.timestamp()
    if isinstance(moment, str):
        try:
            return float(moment)
        except ValueError:
            return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
    return float(moment)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Source(ABC):
    """What differs between stream sources (DynamoDB streams, Kinesis) for the shared poller."""

    kind = ""
    info_key = ""

    @abstractmethod
    def shards(self, esm) -> list[Shard]:
        """The shards of the mapping's stream."""

    @abstractmethod
    def record(self, esm, shard: str, raw, role: str | None) -> dict:
        """One stream record in the event shape AWS delivers to Lambda."""

    @abstractmethod
    def arrival(self, raw) -> float:
        """When ``raw`` reached the stream (epoch seconds, sandbox clock)."""

    @abstractmethod
    def sequence(self, record: dict) -> str:
        """The sequence number of a delivered ``record``."""

    def batch_info(self, esm, shard: str, records: list[dict]) -> dict:
        first, last = records[0], records[-1]
        return {
            "shardId": shard,
            "startSequenceNumber": self.sequence(first),
            "endSequenceNumber": self.sequence(last),
            "batchSize": len(records),
            "streamArn": esm.event_source_arn,
        }


class DynamoDBSource(Source):
    kind = "dynamodb"
    info_key = "DDBStreamBatchInfo"

    def shards(self, esm) -> list[Shard]:
        from moto.dynamodb.models import dynamodb_backends

        _, _, _, region, account, resource = esm.event_source_arn.split(":", 5)
        table = dynamodb_backends[account][region].tables.get(resource.split("/")[1])
        shard = getattr(table, "stream_shard", None)
        return [] if shard is None else [Shard(shard.id, shard.items)]  # moto's list, appended

    def record(self, esm, shard: str, raw, role: str | None) -> dict:
        record = dict(raw.record, eventSourceARN=esm.event_source_arn, awsRegion=esm.region)
        change = dict(record["dynamodb"])
        change["ApproximateCreationDateTime"] = int(epoch(change["ApproximateCreationDateTime"]))
        record["dynamodb"] = change
        return record

    def arrival(self, raw) -> float:
        return epoch(raw.record["dynamodb"]["ApproximateCreationDateTime"])

    def sequence(self, record: dict) -> str:
        return record["dynamodb"]["SequenceNumber"]


class KinesisSource(Source):
    kind = "kinesis"
    info_key = "KinesisBatchInfo"

    def shards(self, esm) -> list[Shard]:
        from moto.kinesis.models import kinesis_backends

        _, _, _, region, account, resource = esm.event_source_arn.split(":", 5)
        stream = kinesis_backends[account][region].streams.get(resource.split("/")[1])
        if stream is None:
            return []
        return [Shard(s.shard_id, _in_order(s)) for s in stream.shards.values()]

    def record(self, esm, shard: str, raw, role: str | None) -> dict:
        record = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw.partition_key,
                "sequenceNumber": str(raw.sequence_number),
                "data": raw.data,  # moto keeps the base64 text the client sent
                "approximateArrivalTimestamp": round(self.arrival(raw), 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{raw.sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": role,
            "awsRegion": esm.region,
            "eventSourceARN": esm.event_source_arn,
        }
        return {k: v for k, v in record.items() if v is not None}

    def arrival(self, raw) -> float:
        return float(raw.created_at)

    def sequence(self, record: dict) -> str:
        return record["kinesis"]["sequenceNumber"]

    def batch_info(self, esm, shard: str, records: list[dict]) -> dict:
        info = super().batch_info(esm, shard, records)
        info["approximateArrivalOfFirstRecord"] = _iso(
            records[0]["kinesis"]["approximateArrivalTimestamp"]
        )
        info["approximateArrivalOfLastRecord"] = _iso(
            records[-1]["kinesis"]["approximateArrivalTimestamp"]
        )
        return info


_ORDERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _in_order(shard) -> list:
    """A Kinesis shard's records as a list, kept up to date by appending only the new ones
    (moto keeps them in an ordered dict, which has no index)."""
    records = _ORDERED.setdefault(shard, [])
    missing = len(shard.records) - len(records)
    if missing > 0:
        records.extend(reversed(list(itertools.islice(reversed(shard.records.values()), missing))))
    elif missing < 0:  # records went away (a reset): start again
        records[:] = shard.records.values()
    return records


_SOURCES = {"dynamodb": DynamoDBSource(), "kinesis": KinesisSource()}


def source_for(arn: str) -> Source | None:
    """The source reading ``arn`` (a DynamoDB stream or Kinesis stream ARN), else ``None``."""
    parts = (arn or "").split(":")
    if len(parts) < 6:
        return None
    if parts[2] == "dynamodb" and "/stream/" in parts[5]:
        return _SOURCES["dynamodb"]
    if parts[2] == "kinesis" and parts[5].startswith("stream/"):
        return _SOURCES["kinesis"]
    return None
