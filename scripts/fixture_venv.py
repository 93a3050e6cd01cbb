"""What the fixture scripts that need pinned packages share: running themselves inside their own
virtual environment, and the output-folder helpers.

    from fixture_venv import reexec_in_venv, fresh_dir, link_vocab
    reexec_in_venv(VENV, PINS, probe="import gguf", system_site_packages=True)  # first thing in main

A venv is created when missing and filled with `pins` from the package registry when `probe` (Python
code that raises unless the right versions are importable) fails; the script is then run again by
the venv's interpreter with the same arguments. Inside the venv the call returns at once.
"""
import os
import shutil
import subprocess
import sys


def reexec_in_venv(venv, pins, probe, system_site_packages=False):
    """Re-runs the calling script inside `venv` (created and filled when missing or stale)."""
    python = os.path.join(venv, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if not os.path.exists(python):
        flags = ["--system-site-packages"] if system_site_packages else []
        subprocess.check_call([sys.executable, "-m", "venv"] + flags + [venv])
    if subprocess.call([python, "-c", probe], stderr=subprocess.DEVNULL) != 0:
        subprocess.check_call([python, "-m", "pip", "install", "-q"] + list(pins))
    os.execv(python, [python, os.path.abspath(sys.argv[0])] + sys.argv[1:])


def fresh_dir(out, name):
    """An empty folder `out/name` (whatever was there is removed)."""
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def link_vocab(d):
    """GPT-2's tokenizer files as relative symlinks to Tests/Fixtures/vocab/gpt2 (`d` two levels below
    Tests/Fixtures), so the daemon can serve the directory."""
    for tok in ("vocab.json", "merges.txt"):
        os.symlink(os.path.join("..", "..", "vocab", "gpt2", tok), os.path.join(d, tok))
