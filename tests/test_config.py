"""Configuration: the example loads, and every common mistake names the file, key and problem."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from common.config import ConfigError, config_from_dict, load_config
from common.thresholds import merged

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patrol.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_its_sites_and_departments():
    cfg = load_config(ROOT / "config" / "patrol.example.yaml")
    assert cfg.sites[0].name == "清溪区人民政府"
    assert cfg.sites[0].department == "zfb"
    assert cfg.department("zfb").name == "区政府办公室"
    assert cfg.leaders[0].title == "区长"


@pytest.mark.parametrize("text, expected", [
    ("sites:\n  - {name: a}\n", "sites[0].url: missing (required)"),
    ("sites:\n  - {name: a, url: 'ftp://x/'}\n", "sites[0].url: 'ftp://x/' is not an http(s) URL"),
    ("sites:\n  - {name: a, url: 'http://x/', department: nope}\n",
     "sites[0].department: unknown department id 'nope'"),
    ("sites:\n  - {name: a, url: 'http://x/', max_pagez: 3}\n", "sites[0].max_pagez: unknown key"),
    ("sitez: []\n", "sitez: unknown key"),
    ("sites:\n  - {name: a, url: 'http://x/', max_pages: many}\n",
     "sites[0].max_pages: expected a whole number, got 'many'"),
    ("sites:\n  - {name: a, url: 'http://x/', render: sometimes}\n", "sites[0].render: must be auto"),
    ("sites: {name: a}\n", "sites: expected a list"),
    ("thresholds: {column_stale: {dynamic_dayz: 3}}\n", "thresholds.column_stale.dynamic_dayz: unknown threshold"),
    ("newmedia:\n  - {name: m}\n", "newmedia[0]: give one of feed, page or export"),
    ("departments:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", "departments[1].id: duplicate"),
])
def test_config_mistake_names_file_key_and_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message


def test_bad_yaml_reports_line_and_column(tmp_path):
    path = write(tmp_path, "sites:\n  - {name: a, url: 'http://x/'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "invalid YAML" in str(err.value)
    assert "line" in str(err.value)


def test_missing_file_says_how_to_start(tmp_path):
    with pytest.raises(ConfigError, match="patrol.example.yaml"):
        load_config(tmp_path / "absent.yaml")


def test_thresholds_merge_defaults_config_and_site():
    cfg = config_from_dict({"thresholds": {"column_stale": {"dynamic_days": 10}},
                            "sites": [{"name": "a", "url": "http://x/",
                                       "thresholds": {"column_stale": {"veto_count": 3}}}]})
    values = merged(cfg, cfg.sites[0])
    assert values["column_stale"]["dynamic_days"] == 10
    assert values["column_stale"]["veto_count"] == 3
    assert values["column_stale"]["notice_days"] == 183      # default kept
    assert merged(cfg)["column_stale"]["veto_count"] == 5


def test_cli_reports_config_error_and_exits_2(tmp_path):
    path = write(tmp_path, "sites:\n  - {name: a, url: 'http://x/', department: nope}\n")
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "unknown department id 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
