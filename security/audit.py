"""Dependency audit of the lock files against a pinned advisory snapshot: works offline.

    python security/audit.py                      # check requirements.lock and requirements-dev.lock
    python security/audit.py --snapshot FILE      # against another snapshot
    python security/audit.py --refresh            # rebuild the snapshot from PyPI's advisories (needs PyPI)

The snapshot (security/advisories.json) lists, for each pinned package version, the advisories PyPI knows
(PyPI's JSON API carries them from the OSV database). A check reads only the lock files and the snapshot: no
network. A pin the snapshot has never seen is reported as unchecked; with no snapshot at all the audit is
SKIPPED with a message saying how to make one. Exit 1 when a pinned version has an advisory that is not
withdrawn; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOCKS = (REPO / "requirements.lock", REPO / "requirements-dev.lock")
SNAPSHOT = HERE / "advisories.json"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(locks: tuple[Path, ...] = LOCKS) -> dict[str, str]:
    """name → version of every pin in the lock files."""
    found: dict[str, str] = {}
    for lock in locks:
        for line in lock.read_text(encoding="utf-8").splitlines():
            match = _PIN.match(line)
            if match:
                found[canonical(match.group(1))] = match.group(2)
    return found


def check(pinned: dict[str, str], snapshot: dict) -> tuple[list[str], list[str]]:
    """(findings, unchecked pins) of these pins against a snapshot."""
    packages = {canonical(k): v for k, v in snapshot.get("packages", {}).items()}
    findings, unchecked = [], []
    for name, version in sorted(pinned.items()):
        entry = packages.get(name, {}).get(version)
        if entry is None:
            unchecked.append(f"{name}=={version}")
            continue
        for adv in entry:
            if adv.get("withdrawn"):
                continue
            fixed = ", ".join(adv.get("fixed_in") or []) or "no fixed version listed"
            findings.append(f"{name}=={version}: {adv.get('id')} (fixed in {fixed}) {adv.get('summary', '')[:100]}")
    return findings, unchecked


def refresh(pinned: dict[str, str], path: Path) -> None:
    """Ask PyPI (one request per pin) for the advisories of each pinned version; write the snapshot."""
    packages: dict[str, dict[str, list]] = {}
    for name, version in sorted(pinned.items()):
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/{version}/json", timeout=30) as response:
            doc = json.load(response)
        packages[name] = {version: [{k: v.get(k) for k in ("id", "aliases", "fixed_in", "summary", "withdrawn")}
                                    for v in doc.get("vulnerabilities") or []]}
    snapshot = {"taken": datetime.now(UTC).strftime("%Y-%m-%d"), "source": "PyPI JSON API (OSV)",
                "packages": packages}
    path.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"snapshot of {len(packages)} pinned packages written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--lock", type=Path, action="append", help="lock file(s) to check (default: both)")
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv)
    pinned = pins(tuple(args.lock) if args.lock else LOCKS)
    if args.refresh:
        refresh(pinned, args.snapshot)
        return 0
    if not args.snapshot.exists():
        print(f"dependency audit SKIPPED: no advisory snapshot at {args.snapshot}. Make one where PyPI is "
              "reachable with `python security/audit.py --refresh`, commit it, and the audit runs offline.")
        return 0
    snapshot = json.loads(args.snapshot.read_text(encoding="utf-8"))
    findings, unchecked = check(pinned, snapshot)
    print(f"dependency audit: {len(pinned)} pins against the snapshot of {snapshot.get('taken', '?')}")
    for line in unchecked:
        print(f"  not in the snapshot (refresh it): {line}")
    for line in findings:
        print(f"  VULNERABLE {line}")
    print("dependency audit: " + (f"{len(findings)} advisory(ies)" if findings else "no known advisory"))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
