"""The rule runner refuses a missing rule file and checks what each file declares it reads."""

from __future__ import annotations

import pytest

from entrasync.warehouse.db import connect_memory
from rules import runner
from rules.runner import RuleFileError, declared, rule_files, run_rule_file


def test_every_rule_file_declares_what_it_reads_and_makes():
    rules = rule_files()
    assert [rule.name for rule in rules][-1] == "rules/writeback.sql"
    by_name = {rule.name: rule for rule in rules}
    assert "stg_in_scope" in by_name["staging/03_scope.sql"].makes
    assert {"plan_links", "stg_in_scope", "change_key"} <= set(by_name["rules/create.sql"].reads)
    assert by_name["rules/pictures.sql"].writes == ("planned_changes",)


def test_a_missing_rule_file_is_refused(monkeypatch):
    monkeypatch.setattr(runner, "RULE_FILES", [*runner.RULE_FILES, "gone.sql"])
    with pytest.raises(RuleFileError, match=r"^rules/gone.sql: rule file missing"):
        rule_files()


def test_a_rule_file_whose_inputs_were_not_made_is_not_run(tmp_path):
    path = tmp_path / "late.sql"
    path.write_text(
        "-- A rule run before the staging it needs.\n"
        "-- reads: stg_in_scope,\n--        plan_links\n"
        "-- makes: late\n"
        "CREATE OR REPLACE TEMP TABLE late AS SELECT * FROM plan_links;\n"
    )
    rule = declared(path)
    assert rule.reads == ("stg_in_scope", "plan_links") and rule.makes == ("late",)
    with pytest.raises(RuleFileError, match="reads stg_in_scope, plan_links, which no earlier"):
        run_rule_file(connect_memory(), rule)


def test_a_rule_file_that_does_not_make_what_it_declares_is_refused(tmp_path):
    path = tmp_path / "quiet.sql"
    path.write_text("-- reads: run_settings\n-- makes: made_here\nSELECT 1;\n")
    with pytest.raises(RuleFileError, match="declares made_here but did not make it"):
        run_rule_file(connect_memory(), declared(path))
