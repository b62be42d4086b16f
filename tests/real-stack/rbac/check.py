#!/usr/bin/env python3
"""RBAC checks of the real-stack run (tests/real-stack/run).

  check.py readme README.md role.yaml
      The permissions the README's "RBAC in a real cluster" table names (last column: verbs in
      backticks, then the resources they apply to, clauses separated by ';') must be exactly the
      rules of role.yaml. Exit 1 with the difference otherwise.

  check.py audit role.yaml USER [USER...] -- AUDIT.log [AUDIT.log...]
      Reads the API servers' audit logs (JSON lines, audit.k8s.io/v1 Event). Every request of
      USER answered 403 is printed as "forbidden: ..." and makes the exit code 1 (a permission
      the table lacks). Every (verb, resource, subresource) the Role grants and no request of
      USER used is printed as "unused grant: ..." (reported, not a failure); the last line is
      "N requests, F forbidden, U unused grants".
"""
import json
import re
import sys

import yaml


def role_grants(path):
    """{(apiGroup, 'resource[/subresource]', verb)} of a Role manifest."""
    grants = set()
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") != "Role":
                continue
            for rule in doc.get("rules", []):
                for g in rule.get("apiGroups", []):
                    for r in rule.get("resources", []):
                        for v in rule.get("verbs", []):
                            grants.add((g, r, v))
    return grants


RESOURCE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z0-9.]+)?(/[a-z]+)?$")


def readme_grants(path):
    """{(apiGroup, resource, verb)} named in the last column of the RBAC table.

    A resource is written `pods`, `pods/exec` (core group) or `statefulsets.apps` (group after
    the first dot). Text in parentheses and after " in " is commentary."""
    text = open(path).read()
    m = re.search(r"^## RBAC in a real cluster\n(.*?)(?=^## )", text, re.S | re.M)
    if not m:
        raise SystemExit("README: no '## RBAC in a real cluster' section")
    grants, errors = set(), []
    rows = [l for l in m.group(1).splitlines() if l.startswith("|") and not l.startswith("|---")]
    for row in rows[1:]:  # the first row is the header
        cell = row.strip().strip("|").split("|")[-1]
        for clause in re.sub(r"\([^)]*\)", "", cell).split(";"):
            verbs = re.findall(r"`([a-z]+)`", clause)
            if not verbs:
                continue
            rest = re.split(r"\s+in\s+", clause.rsplit("`", 1)[1].strip())[0]
            names = [n.strip() for n in re.split(r",\s*|\s+and\s+", rest) if n.strip()]
            if not names:
                errors.append(f"no resource after the verbs in: {clause.strip()}")
            for n in names:
                if not RESOURCE.match(n):
                    errors.append(f"not a resource: {n!r} in: {clause.strip()}")
                    continue
                base, _, sub = n.partition("/")
                res, _, group = base.partition(".")
                res = res + ("/" + sub if sub else "")
                for v in verbs:
                    grants.add((group, res, v))
    if errors:
        raise SystemExit("README RBAC table: " + "; ".join(errors))
    return grants


def fmt(g):
    group, res, verb = g
    return f"{verb} {res}" + (f" (apiGroup {group})" if group else "")


def cmd_readme(readme, role):
    want, have = readme_grants(readme), role_grants(role)
    ok = True
    for g in sorted(want - have):
        print(f"README grants, {role} does not: {fmt(g)}")
        ok = False
    for g in sorted(have - want):
        print(f"{role} grants, README does not: {fmt(g)}")
        ok = False
    print(f"README table and {role}: {len(want)} grants each" if ok else "MISMATCH")
    return 0 if ok else 1


def cmd_audit(role, users, logs):
    grants = role_grants(role)
    used, forbidden, n = set(), [], 0
    for log in logs:
        with open(log) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("user", {}).get("username") not in users:
                    continue
                if ev.get("stage") not in ("ResponseComplete", "Panic"):
                    continue  # a long-running request (exec, port-forward) logs Started too
                n += 1
                ref = ev.get("objectRef") or {}
                code = (ev.get("responseStatus") or {}).get("code")
                if not ref.get("resource"):
                    what = f"{ev.get('verb')} {ev.get('requestURI')}"
                else:
                    res = ref["resource"] + ("/" + ref["subresource"] if ref.get("subresource") else "")
                    if code != 403:
                        used.add((ref.get("apiGroup", ""), res, ev.get("verb")))
                    what = f"{ev.get('verb')} {res}" + (
                        f" (apiGroup {ref['apiGroup']})" if ref.get("apiGroup") else "")
                    what += (f" {ref['name']}" if ref.get("name") else "") + (
                        f" in {ref.get('namespace', '(cluster scope)')}")
                if code == 403:
                    forbidden.append(f"forbidden: {ev['user']['username']}: {what}")
    for g in sorted(used):
        print(f"used: {fmt(g)}")
    for f in forbidden:
        print(f)
    unused = sorted(grants - used)
    for g in unused:
        print(f"unused grant: {fmt(g)}")
    print(f"{n} requests, {len(forbidden)} forbidden, {len(unused)} unused grants")
    return 1 if forbidden or n == 0 else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "readme":
        return cmd_readme(argv[1], argv[2])
    if len(argv) >= 4 and argv[0] == "audit" and "--" in argv:
        i = argv.index("--")
        return cmd_audit(argv[1], set(argv[2:i]), argv[i + 1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
