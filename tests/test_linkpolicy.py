"""The one link-check policy: method, HEAD→GET, redirect hops, kinds of final answers."""
from __future__ import annotations

from crawler.linkpolicy import get_after_head, kind_for_status, next_hop, resource_method, retry_after_matters


def test_attachments_and_images_are_asked_with_head_stylesheets_with_get_pages_are_no_resources():
    assert resource_method("http://x/a/report.pdf") == "HEAD"
    assert resource_method("http://x/img/logo.png") == "HEAD"
    assert resource_method("http://x/css/site.css?v=3") == "GET"
    assert resource_method("http://x/list.html") is None
    assert retry_after_matters(503) and not retry_after_matters(429) and not retry_after_matters(404)


def test_a_refused_or_dropped_head_is_asked_again_with_get_but_not_a_rate_limited_one():
    assert get_after_head(405) and get_after_head(404) and get_after_head(501)
    assert not get_after_head(200) and not get_after_head(301)
    assert not get_after_head(429) and not get_after_head(503, "30")
    assert get_after_head(503)
    assert get_after_head(failure="connection") and not get_after_head(failure="dns")


def test_redirect_hops_go_to_the_location_as_written():
    hop = next_hop("http://x/a", "/b?z=1&a=2&sid=7", ["http://x/a"], 10)
    assert (hop.url, hop.kind) == ("http://x/b?z=1&a=2&sid=7", "")
    assert next_hop("http://x/a", "b c.html", ["http://x/a"], 10).url == "http://x/b%20c.html"


def test_the_same_request_again_is_a_loop_a_new_session_parameter_is_not():
    assert next_hop("http://x/b", "/a", ["http://x/a", "http://x/b"], 10).kind == "redirect_loop"
    assert next_hop("http://x/a", "/a;jsessionid=F00", ["http://x/a"], 10).kind == ""


def test_too_many_hops_and_malformed_locations_stop_the_chain():
    chain = [f"http://x/{i}" for i in range(4)]
    assert next_hop(chain[-1], "/next", chain, 3).kind == "too_many_redirects"
    assert next_hop(chain[-1], "/next", chain, 4).kind == ""
    broken = next_hop("http://x/a", "http://[::1/x", ["http://x/a"], 10)
    assert broken.kind == "invalid_url" and "http://[::1/x" in broken.message
    assert next_hop("http://x/a", "ftp://x/f", ["http://x/a"], 10).kind == "invalid_url"


def test_final_answers_have_their_kind():
    assert [kind_for_status(s) for s in (200, 304, 404, 500)] == ["ok", "ok", "http_404", "http_500"]
    assert kind_for_status(429) == kind_for_status(503, b"120") == "rate_limited"


def test_one_retry_rule_for_both_clients():
    from crawler import leancheck, middlewares
    from crawler.linkpolicy import RETRY_STATUSES, retry_delay
    # The Scrapy middleware and the lean client ask again for the same answers.
    assert middlewares.RETRY_STATUSES is RETRY_STATUSES and leancheck.RETRY_STATUSES is RETRY_STATUSES
    assert {429, 503} <= RETRY_STATUSES and 404 not in RETRY_STATUSES
    # Retry-After (seconds) for 429 and 503, capped; backoff doubling otherwise.
    assert retry_delay(1, 0.5, 429, "3") == 3.0
    assert retry_delay(1, 0.5, 503, "120", cap=60.0) == 60.0
    assert retry_delay(1, 0.5, 500, "3") == 0.5 and retry_delay(3, 0.5) == 2.0
    assert retry_delay(2, 0.5, 429, "not a date") == 1.0
