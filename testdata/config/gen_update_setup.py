#!/usr/bin/python3
"""Run the Python toolbox's own ``update_setup`` on the configs in ``update_setup/``.

Usage (system Python; only the standard library is needed):

    /usr/bin/python3 testdata/config/gen_update_setup.py TOOLBOX_DIR

TOOLBOX_DIR is a checkout of github.com/NeuromorphicProcessorProject/snn_toolbox
(the expected file was written from commit 0255f753). Only two of its files are
used: ``snntoolbox/bin/utils.py`` (``update_setup``) and
``snntoolbox/config_defaults``. The heavy imports of utils.py (TensorFlow, the
Keras input library, matplotlib) are replaced by small stand-ins: the Keras
backend reports 'tensorflow', and matplotlib is present with an rcParams dict,
so update_setup takes the path where plotting is available.

For every ``update_setup/NAME.ini`` a temporary experiment folder is made with
the files named in its first line (``# files: a b c``), ``{DIR}`` in the config
is replaced by that folder, and update_setup runs. ``expected/update_setup.json``
gets, per case, every section and key of the resulting configuration (the folder
written back as ``{DIR}``) or the exception class name.
"""
import configparser
import glob
import importlib.util
import io
import json
import os
import sys
import tempfile
import types
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))


def stub(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


def load_update_setup(toolbox_dir):
    stub("snntoolbox")
    stub("snntoolbox.parsing")
    stub("snntoolbox.parsing.model_libs")
    stub("snntoolbox.parsing.model_libs.keras_input_lib", load=None)
    stub("snntoolbox.utils")
    stub("snntoolbox.utils.utils", import_configparser=lambda: configparser)
    stub("tensorflow")
    stub("tensorflow.keras")
    stub("tensorflow.keras.backend", backend=lambda: "tensorflow")
    stub("matplotlib", rcParams={})
    path = os.path.join(toolbox_dir, "snntoolbox", "bin", "utils.py")
    spec = importlib.util.spec_from_file_location("snntoolbox.bin.utils", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.update_setup


def run_case(update_setup, ini_path):
    text = open(ini_path, encoding="utf-8").read()
    first = text.splitlines()[0]
    assert first.startswith("# files:"), ini_path
    files = first[len("# files:"):].split()
    with tempfile.TemporaryDirectory(prefix="snntb_update_setup_") as tmp:
        for f in files:
            with open(os.path.join(tmp, f), "wb") as fh:
                fh.write(b"x")
        cfg = os.path.join(tmp, "experiment.ini")
        with open(cfg, "w", encoding="utf-8") as fh:
            fh.write(text.replace("{DIR}", tmp))
        try:
            with redirect_stdout(io.StringIO()):
                config = update_setup(cfg)
        except Exception as e:  # noqa: BLE001 - the class name is the expected result
            return {"error": type(e).__name__}
        return {"config": {s: {k: v.replace(tmp, "{DIR}") for k, v in config.items(s)} for s in config.sections()}}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    update_setup = load_update_setup(sys.argv[1])
    results = {}
    for path in sorted(glob.glob(os.path.join(HERE, "update_setup", "*.ini"))):
        results[os.path.basename(path)[:-4]] = run_case(update_setup, path)
    with open(os.path.join(HERE, "expected", "update_setup.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d update_setup cases" % len(results))


if __name__ == "__main__":
    main()
