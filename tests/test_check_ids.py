"""The closed set of check ids (checks.model.CheckId) is the one vocabulary of checks, store,
scores, report and rectification lists."""
import json

import pytest
import yaml

from checks.model import CheckId, CrawlFailure, Finding, LinkKind, SiteCrawl
from patroldata import data_path


def test_every_check_has_a_label_and_a_suggestion_and_nothing_else_does():
    rules = yaml.safe_load(data_path("rectification.yaml").read_text(encoding="utf-8"))
    assert set(rules["labels"]) == set(CheckId)
    assert set(rules["suggestions"]) - {"default"} == set(CheckId)
    scoring = yaml.safe_load(data_path("scoring.yaml").read_text(encoding="utf-8"))
    assert set(scoring["checks"]) <= set(CheckId)


def test_a_finding_of_an_unknown_check_is_refused_and_known_ones_stay_plain_strings():
    with pytest.raises(ValueError, match="unknown check id 'brokn_link'"):
        Finding("brokn_link", "error", "站", "http://a/", "x")
    f = Finding(CheckId.BROKEN_LINK, "error", "站", "http://a/", "x", detail={"kind": LinkKind.HTTP_4XX})
    assert type(f.check) is str and f.check == "broken_link"
    assert json.loads(json.dumps(f.to_dict()))["check"] == "broken_link"
    assert f.fingerprint == Finding("broken_link", "error", "站", "http://a/", "y",
                                    detail={"kind": "http_4xx"}).fingerprint


def test_a_failed_crawl_is_a_typed_outcome():
    crawl = SiteCrawl(name="站", url="http://a/")
    crawl.errors.append("首页无法访问：the homepage could not be crawled (dns)")   # a finding, not a failure
    assert not crawl.failed
    crawl.fail(CrawlFailure.PROCESS_EXITED, "crawl process exited with code -9")
    assert crawl.failed and crawl.failures == [CrawlFailure.PROCESS_EXITED]
    assert crawl.errors[-1] == "crawl process exited with code -9"
