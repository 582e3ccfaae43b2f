#!/usr/bin/env bash
# Supply-chain checks on the hash-locked dependencies (requirements/*.lock, from scripts/lock.sh):
#  1. the CycloneDX SBOM of what the gateway ships (the project and requirements/runtime.lock, or
#     SBOM_LOCK), written to $AUDIT_OUT/sbom.cdx.json; offline;
#  2. pip-audit of every locked package (the test suite's, the build tools', the no-deps wheels')
#     against PyPI's advisory data (OSV/PYSEC/GHSA), report in $AUDIT_OUT/audit.json. A finding
#     fails unless requirements/audit-allowlist.toml (or AUDIT_ALLOWLIST) accepts it, with a reason,
#     until its expiry date (compared with AUDIT_TODAY, YYYY-MM-DD, default today, UTC).
# Usage: scripts/audit.sh [REQUIREMENTS_FILE...]   (default: the lock files)
#        scripts/audit.sh --report FILE   judge an existing pip-audit JSON report against the
#                                         allow-list (offline; e.g. after editing the allow-list)
# Exit: 0 no unaccepted finding; 1 unaccepted findings or packages left unaudited; 2 the tools or
# the allow-list failed; 3 the advisory data could not be reached or is not served (PyPI's
# per-release JSON API; a mirror that lacks it): the SBOM is still written, the test suite skips.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV_BIN:-.venv/bin}"
OUT="${AUDIT_OUT:-build}"
ALLOWLIST="${AUDIT_ALLOWLIST:-requirements/audit-allowlist.toml}"
mkdir -p "$OUT"
judge() {
  "$BIN/python" - "$1" "$ALLOWLIST" "${AUDIT_TODAY:-$(date -u +%F)}" <<'PY'
import datetime, json, sys, tomllib
from pathlib import Path

report, allowlist, today = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]), sys.argv[3]
today_date = datetime.date.fromisoformat(today)
accepted = tomllib.loads(allowlist.read_text()).get("accept", []) if allowlist.exists() else []
for entry in accepted:
    missing = {"id", "package", "reason", "expires"} - entry.keys()
    if missing or not isinstance(entry["expires"], datetime.date) or not entry["reason"].strip():
        print(f"{allowlist}: entry {entry.get('id')!r} needs id, package, a reason and an expires date", file=sys.stderr)
        sys.exit(2)
used, failing = set(), []
deps = report["dependencies"]
for dep in deps:
    for vuln in dep.get("vulns", []):
        ids = {vuln["id"], *vuln.get("aliases", [])}
        name = f"{dep['name']}=={dep['version']} {vuln['id']} ({', '.join(sorted(vuln.get('aliases', [])))})"
        fix = ", ".join(vuln.get("fix_versions", [])) or "none yet"
        match = [e for e in accepted if e["id"] in ids and e["package"].lower() == dep["name"].lower()]
        live = [e for e in match if e["expires"] >= today_date]
        if live:
            used.add(live[0]["id"])
            print(f"accepted until {live[0]['expires']}: {name}: {live[0]['reason']}", file=sys.stderr)
        elif match:
            failing.append(f"{name}: fixed in {fix}; its allow-list entry expired {match[0]['expires']}")
        else:
            failing.append(f"{name}: fixed in {fix}")
for entry in accepted:
    if entry["id"] not in used:
        print(f"note: allow-list entry {entry['id']} ({entry['package']}) matched nothing", file=sys.stderr)
skipped = [d for d in deps if d.get("skip_reason")]
if deps and len(skipped) == len(deps):
    print("SKIPPED: no package could be audited (the index serves no per-release advisory data)", file=sys.stderr)
    sys.exit(3)
for dep in skipped:
    failing.append(f"{dep['name']}=={dep['version']} not audited: {dep['skip_reason']}")
print(f"== pip-audit: {len(deps) - len(skipped)} packages audited, {len(failing)} problems", file=sys.stderr)
for line in failing:
    print(f"FAIL: {line}", file=sys.stderr)
sys.exit(1 if failing else 0)
PY
}
if [ "${1:-}" = "--report" ]; then
  judge "$2"
  exit
fi
files=("$@")
[ "${#files[@]}" -gt 0 ] || files=(requirements/test.lock requirements/build.lock requirements/no-deps.lock)

PYTHONWARNINGS=ignore::UserWarning "$BIN/cyclonedx-py" requirements "${SBOM_LOCK:-requirements/runtime.lock}" --pyproject pyproject.toml \
  --of JSON --sv 1.6 --output-reproducible --validate -o "$OUT/sbom.cdx.json"
echo "== SBOM (CycloneDX 1.6): $OUT/sbom.cdx.json" >&2

# pip-audit asks https://pypi.org/pypi/NAME/VERSION/json for each package: probe that endpoint once.
probe="https://pypi.org/pypi/pip/$(sed -n 's/^pip==\([^ ]*\).*/\1/p' requirements/build.lock)/json"
if ! "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read(1)' "$probe" 2>"$OUT/probe.err"; then
  echo "SKIPPED: cannot reach PyPI's advisory data ($probe: $(tail -1 "$OUT/probe.err"))" >&2
  exit 3
fi
reqs=()
for f in "${files[@]}"; do reqs+=(-r "$f"); done
rm -f "$OUT/audit.json"
# --disable-pip --no-deps: audit exactly the pinned closure in the files, without installing it.
rc=0
"$BIN/pip-audit" --disable-pip --no-deps --vulnerability-service pypi --progress-spinner off \
  --format json --output "$OUT/audit.json" "${reqs[@]}" 2>"$OUT/pip-audit.err" || rc=$?
if [ ! -s "$OUT/audit.json" ]; then
  cat "$OUT/pip-audit.err" >&2
  if grep -qiE 'connection|timed? ?out|resolve|unreachable|Max retries' "$OUT/pip-audit.err"; then
    echo "SKIPPED: pip-audit lost PyPI's advisory data mid-way (exit $rc)" >&2
    exit 3
  fi
  echo "pip-audit failed (exit $rc) without a report" >&2
  exit 2
fi

judge "$OUT/audit.json"
