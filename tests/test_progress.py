"""The one progress line (common/progress.py), shared by crawl processes and the sharded crawl."""
import io
import sys

from common import progress


def test_progress_line_is_rewritten_in_place_and_ended(capsys):
    progress.show([progress.site_part("清溪区", 12, 340, 2), progress.site_part("文旅局", 3, 9, 0, done=True)])
    progress.show([progress.site_part("清溪区", 20, 400, 2)], final=True)
    err = capsys.readouterr().err
    assert err == ("\r清溪区: 12 pages, 340 links checked, 2 broken; 文旅局: 3 pages, 9 links checked, 0 broken (done)   "
                   "\r清溪区: 20 pages, 400 links checked, 2 broken\n")


def test_a_closed_or_missing_stderr_does_not_stop_a_crawl(monkeypatch):
    closed = io.StringIO()
    closed.close()
    for stream in (closed, None):
        monkeypatch.setattr(sys, "stderr", stream)
        progress.show(["x: 1 pages, 0 links checked, 0 broken"])
        progress.end()
    monkeypatch.undo()
    assert not sys.stderr.closed
