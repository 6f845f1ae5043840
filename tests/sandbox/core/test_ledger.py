"""`crosstrain sandbox services`: every service is listed once with an honest mode and a note."""

import json

from click.testing import CliRunner

from crosstrain.cli import main
from crosstrain.sandbox.core.ledger import LEDGER, MODES


def test_every_entry_has_a_known_mode_and_a_note():
    services = [e.service for e in LEDGER]
    assert len(services) == len(set(services))
    for entry in LEDGER:
        assert entry.mode in MODES and len(entry.note) > 10


def test_services_json_lists_the_ledger():
    result = CliRunner().invoke(main, ["sandbox", "services", "--json"])
    assert result.exit_code == 0
    rows = {row["service"]: row for row in json.loads(result.output)}
    assert rows["s3"]["mode"] == "moto"
    assert rows["cloudwatch"]["mode"] == "real"
    assert "Metric alarms evaluate" in rows["cloudwatch"]["note"]


def test_services_table_is_printed():
    result = CliRunner().invoke(main, ["sandbox", "services"])
    assert result.exit_code == 0 and "dynamodb" in result.output


def test_cloudformation_types_lists_supported_and_unsupported():
    result = CliRunner().invoke(main, ["sandbox", "services", "--cloudformation-types", "--json"])
    assert result.exit_code == 0, result.output
    types = json.loads(result.output)
    assert "AWS::Glue::Table" in types["supported"] and "AWS::S3::Bucket" in types["supported"]
    assert types["unsupported"] and not set(types["unsupported"]) & set(types["supported"])
