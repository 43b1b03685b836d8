"""Config: YAML + overrides fill typed dataclasses; bad values fail at load naming the key."""

import dataclasses

import pytest
import yaml

from synesthete.cli import _config, build_parser
from synesthete.config import CONFIG_DIR, Config, ConfigError, config_diff, config_from_dict, load_config


def test_default_yaml_spells_out_the_dataclass_defaults():
    shipped = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
    assert config_diff(shipped, Config().to_dict()) == []


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_yaml_loads(path):
    cfg = load_config(path.stem)
    assert cfg.preset in (path.stem, "custom")
    # a saved config rebuilds to the same thing (checkpoints rely on this)
    assert config_from_dict(cfg.to_dict()) == cfg


def test_overrides_are_typed():
    cfg = load_config(None, ["data.fps=8", "data.seconds=2", "data.visualizers=[tunnel, plasma]", "data.epoch_size=null"])
    assert cfg.data.fps == 8 and cfg.data.seconds == 2.0 and isinstance(cfg.data.seconds, float)
    assert cfg.data.visualizers == ["tunnel", "plasma"]
    assert cfg.data.frames == 16 and cfg.data.samples == 32000


@pytest.mark.parametrize(
    "override, key",
    [
        ("data.fps=0", "data.fps"),
        ("data.seconds=-1", "data.seconds"),
        ("data.seconds=0.05", "data.seconds"),               # 0.8 of a frame: an FFT error later
        ("data.size=16", "data.size"),                       # a 1x1 latent grid for 2x2 patches: fails in the DiT
        ("data.sample_rate=16001", "data.sample_rate"),
        ("data.size=100", "data.size"),
        ("data.fps=fast", "data.fps"),
        ("data.nope=1", "data.nope"),
        ("device=tpu", "device"),
        ("data.epoch_size=0", "data.epoch_size"),
        ("sample.guidance=.inf", "sample.guidance"),         # passed `>= 0` before: black frames
        ("dit.train.lr=.nan", "dit.train.lr"),
        ("name=../elsewhere", "name"),                      # runs/<name>/ would write outside runs/
        ("name=/tmp/abs", "name"),
        ("name=..", "name"),
    ],
)
def test_invalid_values_name_the_key(override, key):
    with pytest.raises(ConfigError) as e:
        load_config(None, [override])
    assert str(e.value).startswith(key + ":")
    assert "\n" not in str(e.value)


def test_a_run_name_is_one_folder_name():
    assert load_config(None, ["name=std_c16-v2.1"]).name == "std_c16-v2.1"


def test_unknown_visualizer_fails_at_load():
    args = build_parser().parse_args(["preview", "data.visualizers=[no_such_vis]"])
    with pytest.raises(ConfigError, match=r"^data.visualizers: unknown visualizer 'no_such_vis'"):
        _config(args)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("no-such-preset")


def test_hash_changes_with_content():
    a, b = Config(), load_config(None, ["data.size=64"])
    assert a.hash() != b.hash() and a.hash() == Config().hash()
    assert config_diff(a.to_dict(), b.to_dict()) == ["data.size"]
    assert dataclasses.replace(a) == a
