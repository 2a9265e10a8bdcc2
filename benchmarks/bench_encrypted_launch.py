"""Real-terminal launch (tmux, as `msl` starts): a plain 300-KOL store against the same store
encrypted (SQLCipher), alternating, median of five, from the command's start until ranked
rows show. Not run in CI: `python benchmarks/bench_encrypted_launch.py`."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

MSL = str(Path(sys.executable).with_name("msl"))
PASSPHRASE = "correct horse battery staple"
W = Path(tempfile.mkdtemp(prefix="msl-enc-bench-"))
os.environ["MSL_PASSPHRASE"] = PASSPHRASE
subprocess.run(
    [MSL, "seed-demo", "--db", str(W / "plain.db"), "--kols", "300", "--years", "2"],
    check=True,
    capture_output=True,
)
shutil.copy(W / "plain.db", W / "enc.db")
subprocess.run([MSL, "--db", str(W / "enc.db"), "encrypt"], check=True, capture_output=True)


def launch(db: Path) -> float:
    sock = f"eb-{uuid.uuid4().hex[:6]}"
    t0 = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "-L",
            sock,
            "new-session",
            "-d",
            "-s",
            "m",
            "-x",
            "120",
            "-y",
            "40",
            f"env MSL_PASSPHRASE='{PASSPHRASE}' {MSL} --db {db}",
        ],
        check=True,
    )
    while True:
        out = subprocess.run(
            ["tmux", "-L", sock, "capture-pane", "-p", "-t", "m"], capture_output=True, text=True
        ).stdout
        if " 5 " in out and "sort:" in out:
            break
        time.sleep(0.01)
    d = time.perf_counter() - t0
    subprocess.run(["tmux", "-L", sock, "kill-server"])
    return d


res = {"plain": [], "enc": []}
for _ in range(5):
    res["plain"].append(launch(W / "plain.db"))
    res["enc"].append(launch(W / "enc.db"))
mp, me = statistics.median(res["plain"]), statistics.median(res["enc"])
print(
    f"real-terminal launch to ranked rows, 300 KOLs (median of 5): plain {mp:.2f} s, encrypted {me:.2f} s -> {me / mp:.2f}x"
)
