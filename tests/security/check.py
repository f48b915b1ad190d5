#!/usr/bin/env python3
"""Security checks against a real hub on 127.0.0.1: schemathesis and clairvoyance.

Started by run.sh (which builds the binary and prepares the virtual environment); see README.md
beside this file for what runs and how to read the result. Everything is sent to 127.0.0.1 only.

Exit code: 0 every check passed; 1 a check failed (or could not be carried out); 2 the hub or a
tool could not be started.
"""

import argparse
import base64
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from graphql import get_introspection_query, parse
from graphql.language import (
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
)

HERE = Path(__file__).resolve().parent
CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "CONFLICT", "LIMIT_EXCEEDED", "INTERNAL"}
BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}

# Words an attacker would try besides the schema's own names.
COMMON_WORDS = """
account accounts admin admins apiKey apiKeys audit auditLog auth authenticate backup config configuration
createUser credentials currentUser debug delete deleteUser email env environment export file files flag
flags health hidden internal item items key keys list log login logout logs me node nodes password
passwords permission permissions private profile query register reset role roles root search secret
secrets session sessions settings shelterAddress system token tokens update updateUser upload user
userByEmail users version viewer whoami
""".split()


def log(message):
    print(f"[security] {message}", flush=True)


def env_without_hub_settings():
    """The environment, less anything that would point the hub elsewhere (flags are passed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACCORDO_") and k != "DATABASE_URL"}
    env["RUST_LOG"] = os.environ.get("SECURITY_HUB_LOG", "warn")
    return env


# ------------------------------------------------------------------------------------------------
# The hub
# ------------------------------------------------------------------------------------------------


class Hub:
    """`raccordo serve --demo` on 127.0.0.1 in a temporary folder."""

    def __init__(self, binary, workdir, secret):
        self.binary = binary
        self.workdir = workdir
        self.secret = secret
        self.process = None
        self.url = None
        self.tokens = {}  # (agency, role) -> token
        self.out = workdir / "hub-stdout.txt"
        self.err = workdir / "hub-stderr.txt"

    def start(self, timeout):
        database = self.workdir / "raccordo.db"
        self.process = subprocess.Popen(
            [
                self.binary,
                "serve",
                "--demo",
                "--bind",
                "127.0.0.1:0",
                "--jwt-secret",
                self.secret,
                "--database-url",
                f"sqlite://{database}?mode=rwc",
                *throttle_flags(self.binary),
            ],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=open(self.out, "w"),
            stderr=open(self.err, "w"),
            env=env_without_hub_settings(),
        )
        started = time.monotonic()
        while True:
            text = self.out.read_text(errors="replace")
            m = re.search(r"^listening on http://(\S+)$", text, re.M)
            if m:
                address = m.group(1)
                if not address.startswith("127.0.0.1:"):
                    raise RuntimeError(f"the hub listens on {address}, not on 127.0.0.1")
                self.url = f"http://{address}/graphql"
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"raccordo serve exited ({self.process.returncode}):\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"raccordo serve did not listen within {timeout} s")
            time.sleep(0.2)
        for line in text.splitlines():
            m = re.match(r"^(\S+)\s+(OPERATOR|COORDINATOR|ANALYST|PLATFORM_ADMIN)\s+(ey\S+)$", line)
            if m:
                self.tokens[(m.group(1), m.group(2))] = m.group(3)
        if not self.tokens:
            raise RuntimeError("the hub printed no demo tokens")
        return time.monotonic() - started

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines=10):
        text = self.err.read_text(errors="replace") if self.err.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def command(self, *args):
        """Runs another `raccordo` command (schema...) beside the hub; returns (rc, stdout, stderr)."""
        p = subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            env=env_without_hub_settings(),
            timeout=120,
        )
        return p.returncode, p.stdout, p.stderr


def post(url, query, token=None, variables=None, timeout=60):
    """POSTs a GraphQL request; waits and sends it again when the throttle says 429."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    for _ in range(30):
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code == 429:
                time.sleep(float(e.headers.get("retry-after") or 1) + 0.2)
                continue
            return e.code, json.loads(e.read() or b"null")
    raise RuntimeError("the hub kept answering 429")


def throttle_flags(binary):
    """Flags that lift the hub's per-user and per-agency throttle, if this binary has them: these
    tools send thousands of requests as one user, and what they check is not the throttle."""
    if os.environ.get("SECURITY_KEEP_THROTTLE"):
        return []
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    flags = []
    for flag, value in (("--rate-limit-user", "1000000"), ("--rate-limit-agency", "1000000"), ("--max-concurrent-per-agency", "256"),
                        ("--cost-limit-user", "1000000000"), ("--cost-limit-agency", "1000000000"),
                        ("--max-cost-in-flight-per-agency", "1000000000")):
        if flag in help_text:
            flags += [flag, value]
    return flags


# ------------------------------------------------------------------------------------------------
# Viewers
# ------------------------------------------------------------------------------------------------


def agency_kinds(hub):
    status, body = post(hub.url, "{ directory { id kind } }")
    agencies = ((body or {}).get("data") or {}).get("directory") or []
    return {a["id"]: a["kind"] for a in agencies}


def token_for(hub, kinds, spec):
    """`anonymous` -> None; `KIND:ROLE` -> (agency, token) of a demo agency of that kind."""
    if spec == "anonymous":
        return None, None
    if spec in ("PLATFORM_ADMIN", "-:PLATFORM_ADMIN"):
        return "(none)", hub.tokens[("(none)", "PLATFORM_ADMIN")]
    kind, role = spec.split(":")
    candidates = sorted(a for a, k in kinds.items() if k == kind and (a, role) in hub.tokens)
    if not candidates:
        raise RuntimeError(f"no demo agency of kind {kind} with a {role} token")
    # The README's examples are in Bergamo: prefer a -bg agency.
    agency = next((a for a in candidates if a.endswith("-bg")), candidates[0])
    return agency, hub.tokens[(agency, role)]


# ------------------------------------------------------------------------------------------------
# Introspection
# ------------------------------------------------------------------------------------------------


def introspection_with_typeref(levels):
    """The standard introspection query with its TypeRef fragment nested `levels` deep
    (graphql-core 3.3 and graphql-js 17 use 9, graphql-js 16 as in GraphiQL 2 and 3 uses 7)."""
    head = get_introspection_query(descriptions=True).split("fragment TypeRef")[0]
    ref = "kind name"
    for _ in range(levels):
        ref = f"kind name ofType {{ {ref} }}"
    return head + "fragment TypeRef on __Type { " + ref + " }"


def introspection_checks(hub, token):
    """The standard introspection query as a partner, and `__schema` as an anonymous caller."""
    findings = []
    accepted = {}
    for levels in (9, 7, 6, 5):
        status, body = post(hub.url, introspection_with_typeref(levels), token)
        accepted[levels] = (bool(((body or {}).get("data") or {}).get("__schema")), body)
    partner_ok = accepted[9][0]
    if not accepted[9][0] or not accepted[7][0]:
        deepest = max((n for n, (ok, _) in accepted.items() if ok), default=None)
        findings.append(
            {
                "what": "a partner's standard introspection query is refused: "
                + ", ".join(f"TypeRef {n} levels {'accepted' if ok else 'refused'}" for n, (ok, _) in accepted.items())
                + f" (graphql-core 3.3 / graphql-js 17 send 9, GraphiQL's graphql-js 16 sends 7; deepest accepted: {deepest})",
                "query": "graphql.get_introspection_query() (Python graphql-core 3.3.2)",
                "answer": accepted[9][1] if not accepted[9][0] else accepted[7][1],
            }
        )
    status, body = post(hub.url, "{ __schema { queryType { name } types { name } } }")
    data = (body or {}).get("data") or {}
    if data.get("__schema"):
        findings.append({"what": "an anonymous caller gets __schema", "query": "{ __schema { types { name } } }", "answer": body})
    return partner_ok, findings


# ------------------------------------------------------------------------------------------------
# schemathesis
# ------------------------------------------------------------------------------------------------


def decode(blob):
    if isinstance(blob, dict) and "$base64" in blob:
        return base64.b64decode(blob["$base64"]).decode("utf-8", "replace")
    if isinstance(blob, dict) and "string" in blob:
        return blob["string"]
    return blob if isinstance(blob, str) else json.dumps(blob)


def classify(check, failure, status, answer):
    """(verdict, why): verdict is 'real' or 'false-positive'."""
    codes = []
    if isinstance(answer, dict):
        codes = [((e or {}).get("extensions") or {}).get("code") for e in answer.get("errors") or []]
    if status is not None and status >= 500:
        return "real", f"HTTP {status}"
    if check == "raccordo_contract":
        return "real", failure.get("message", "")
    code = failure.get("code")
    if code == "ST113":
        if codes and all(c in CODES - {"INTERNAL"} for c in codes):
            return "false-positive", (
                "a documented error of the hub (" + ", ".join(sorted(set(codes))) + ") on a resolver path; "
                "schemathesis counts any error with a path and no Apollo/graphql-java marker as a server error"
            )
        return "real", "an error the hub's contract does not allow"
    if code == "ST206":
        if codes and all(c == "LIMIT_EXCEEDED" for c in codes):
            return "false-positive", "a schema-valid document over one of the hub's documented limits"
        return "real", "a schema-valid document refused before execution"
    return "real", failure.get("title") or code or check


def run_schemathesis(hub, args, token, location, report_dir, venv_bin):
    report_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(venv_bin / "schemathesis"),
        "run",
        location,
        "--url",
        hub.url,
        "-H",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(args.st_examples),
        "--workers",
        str(args.st_workers),
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        # Without it, the first failure of an operation (most are the false positives below)
        # ends that operation's exploration.
        "--continue-on-failure",
        "--phases",
        args.st_phases,
        # A time budget the run ends at, with its report written: the stateful phase's length
        # follows its random seed (from one to more than ten minutes here), and a run cut off by
        # the time box below would leave no report at all.
        "--max-time",
        str(args.st_max_time),
        "--report",
        "json,ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = "st_hooks"
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    cmd += ["--rate-limit", "auto"]
    log("schemathesis: " + " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer …" for c in cmd[1:]))
    started = time.monotonic()
    with open(report_dir / "schemathesis-output.txt", "w") as out:
        try:
            p = subprocess.run(cmd, cwd=report_dir, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=args.st_timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    elapsed = time.monotonic() - started
    result = {"exit_code": rc, "seconds": round(elapsed, 1), "cases": None, "operations": None, "failures": []}
    reports = sorted(glob.glob(str(report_dir / "json-*.json")))
    if not reports:
        result["error"] = "schemathesis wrote no report: see " + str(report_dir / "schemathesis-output.txt")
        return result
    summary = json.loads(Path(reports[-1]).read_text())
    result["cases"] = summary["test_cases"]["generated"]
    result["operations"] = summary["operations"]["tested"]
    result["seed"] = summary.get("seed")
    result["errors"] = summary.get("errors") or []
    seen = set()
    for path in sorted(glob.glob(str(report_dir / "ndjson-*.ndjson"))):
        for line in open(path):
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            for case_id, checks in (recorder.get("checks") or {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    case = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                    interaction = (recorder.get("interactions") or {}).get(case_id) or {}
                    response = interaction.get("response") or {}
                    status = response.get("status_code")
                    answer_text = decode(response.get("content")) if response else None
                    try:
                        answer = json.loads(answer_text) if answer_text else None
                    except ValueError:
                        answer = answer_text
                    query = case.get("body")
                    if isinstance(query, dict):
                        query = query.get("query", json.dumps(query))
                    key = (check["name"], failure.get("code"), failure.get("message"), recorder.get("label"))
                    if key in seen:
                        continue
                    seen.add(key)
                    verdict, why = classify(check["name"], failure, status, answer)
                    result["failures"].append(
                        {
                            "verdict": verdict,
                            "why": why,
                            "check": check["name"],
                            "code": failure.get("code"),
                            "operation": recorder.get("label"),
                            "message": failure.get("message"),
                            "query": query,
                            "status": status,
                            "answer": answer,
                        }
                    )
    return result


# ------------------------------------------------------------------------------------------------
# clairvoyance
# ------------------------------------------------------------------------------------------------


class SdlModel:
    """An SDL document read without building a schema (a view may be incomplete):
    objects[type][field] = (named type of the field, [argument names]); inputs likewise."""

    def __init__(self, sdl):
        self.objects, self.inputs, self.enums, self.scalars = {}, {}, {}, set()
        for d in parse(sdl).definitions:
            name = getattr(getattr(d, "name", None), "value", None)
            if isinstance(d, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
                self.objects[name] = {f.name.value: (named(f.type), [a.name.value for a in f.arguments or []]) for f in d.fields or []}
            elif isinstance(d, InputObjectTypeDefinitionNode):
                self.inputs[name] = {f.name.value: (named(f.type), []) for f in d.fields or []}
            elif isinstance(d, EnumTypeDefinitionNode):
                self.enums[name] = [v.name.value for v in d.values or []]
            elif isinstance(d, (ScalarTypeDefinitionNode, UnionTypeDefinitionNode)):
                self.scalars.add(name)

    def types(self):
        return set(self.objects) | set(self.inputs) | set(self.enums) | self.scalars

    def undefined(self):
        """Type names used but not defined."""
        known = self.types() | BUILTIN_SCALARS
        used = {t for fields in list(self.objects.values()) + list(self.inputs.values()) for t, _ in fields.values()}
        return sorted(used - known)

    def paths_from(self, root="Query"):
        """For every object type reachable from `root`: a selection path."""
        if root not in self.objects:
            return {}
        paths, queue = {root: []}, [root]
        while queue:
            t = queue.pop(0)
            for fname, (inner, _) in self.objects[t].items():
                if inner in self.objects and inner not in paths:
                    paths[inner] = paths[t] + [fname]
                    queue.append(inner)
        return paths


def named(type_node):
    while isinstance(type_node, (ListTypeNode, NonNullTypeNode)):
        type_node = type_node.type
    return type_node.name.value


def names_of_sdl(sdl):
    """Type names, `Type.field` and `Type.field(arg)` of an SDL document (builtins left out)."""
    model = SdlModel(sdl)
    types, fields, args, words = set(), set(), set(), set()
    for name in model.types():
        if name.startswith("__") or name in BUILTIN_SCALARS:
            continue
        types.add(name)
        words.add(name)
    for name, members in list(model.objects.items()) + list(model.inputs.items()):
        for fname, (_, fargs) in members.items():
            fields.add(f"{name}.{fname}")
            words.add(fname)
            for a in fargs:
                args.add(f"{name}.{fname}({a})")
                words.add(a)
    for values in model.enums.values():
        words.update(values)
    return {"types": types, "fields": fields, "args": args, "words": words}


def names_of_recovered(path, full):
    """The same sets from clairvoyance's output (an introspection result)."""
    doc = json.loads(Path(path).read_text())
    schema = (doc.get("data") or doc).get("__schema") or {}
    types, fields, args = set(), set(), set()
    for t in schema.get("types") or []:
        name = t.get("name") or ""
        if name.startswith("__") or name in BUILTIN_SCALARS:
            continue
        # clairvoyance names every input type it meets `<Name>Input`.
        if t.get("kind") == "INPUT_OBJECT" and name.endswith("Input") and name not in full["types"]:
            name = name[: -len("Input")]
        if t.get("kind") == "OBJECT" and not (t.get("fields") or []) and name in ("Mutation", "Subscription"):
            continue  # a root clairvoyance only names (it explores queries)
        types.add(name)
        for f in t.get("fields") or []:
            if f["name"] == "dummy":
                continue  # clairvoyance's placeholder for a type whose fields it did not find
            fields.add(f"{name}.{f['name']}")
            for a in f.get("args") or []:
                args.add(f"{name}.{f['name']}({a['name']})")
    return {"types": types, "fields": fields, "args": args}


def oracle_sdl(hub, spec, mode):
    """The SDL of what `spec` may learn of the schema.

    Anonymous callers: `raccordo schema --viewer anonymous` (the public directory). Partners: the
    whole published schema, by design: it is the contract every partner is given, and ACCESS.md
    section 4 makes a field of a hidden class resolve to null rather than to an error, so that a
    client can tell "redacted" from "unknown" (see SECURITY.md). `--oracle full` uses the whole
    schema for every caller, to test the mechanics only."""
    if mode == "full":
        rc, out, err = hub.command("schema")
        return out, "raccordo schema (full schema: mechanics only)"
    if spec != "anonymous":
        rc, out, err = hub.command("schema")
        if rc != 0:
            return None, f"`raccordo schema` failed (exit {rc})"
        return out, "raccordo schema (a partner may learn the whole published schema)"
    rc, out, err = hub.command("schema", "--viewer", spec)
    if rc != 0:
        return None, f"`raccordo schema --viewer {spec}` failed (exit {rc}): {err.strip().splitlines()[-1] if err.strip() else ''}"
    return out, f"raccordo schema --viewer {spec}"


def hidden_names(hub, spec, full):
    """The names outside `spec`'s view (`raccordo schema --viewer SPEC`): what no message of the
    hub may quote to it, whatever the oracle of the recovery check. None if the view is missing."""
    rc, out, _ = hub.command("schema", "--viewer", spec)
    if rc != 0:
        return None
    view = names_of_sdl(out)
    return {"types": sorted(full["types"] - view["types"]), "fields": sorted(full["fields"] - view["fields"])}


def run_clairvoyance(hub, spec, token, wordlist, out_dir, venv_bin, timeout, concurrency, hidden):
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = spec.replace(":", "-").lower()
    output = out_dir / f"clairvoyance-{safe}.json"
    stats = out_dir / f"clairvoyance-{safe}-stats.json"
    cmd = [str(venv_bin / "python"), str(HERE / "clairvoyance_adapter.py"), hub.url, "-w", str(wordlist), "-o", str(output), "-c", str(concurrency)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    env = dict(os.environ)
    env["CLAIRVOYANCE_STATS"] = str(stats)
    if hidden is not None:
        hidden_path = out_dir / f"clairvoyance-{safe}-hidden.json"
        hidden_path.write_text(json.dumps(hidden))
        env["CLAIRVOYANCE_HIDDEN"] = str(hidden_path)
    started = time.monotonic()
    timed_out = False
    with open(out_dir / f"clairvoyance-{safe}.log", "w") as logf:
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            rc = "timeout"
    elapsed = time.monotonic() - started
    return {
        "exit_code": rc,
        "timed_out": timed_out,
        "seconds": round(elapsed, 1),
        "output": output if output.exists() else None,
        "stats": json.loads(stats.read_text()) if stats.exists() else {},
        "log": out_dir / f"clairvoyance-{safe}.log",
    }


def compare(recovered, oracle, full):
    """Leaks: recovered names that exist but that the viewer may not see; artifacts: names the
    tool made up (not in the schema at all), which cannot be leaks."""
    out = {}
    for kind in ("types", "fields", "args"):
        got = recovered[kind]
        out[kind] = {
            "recovered": len(got),
            "visible": len(oracle[kind]),
            "recovered_visible": len(got & oracle[kind]),
            "leaks": sorted((got & full[kind]) - oracle[kind]),
            "artifacts": sorted(got - full[kind]),
        }
    return out


# ------------------------------------------------------------------------------------------------
# Differential probes: can a caller tell a hidden name from a name that never existed?
# ------------------------------------------------------------------------------------------------


def bogus_like(name, words):
    """A name of the same length that is no name of the schema (so that locations line up)."""
    for filler in ("zq", "qz", "xj", "jx"):
        candidate = (filler * len(name))[: len(name)]
        if candidate not in words and candidate != name:
            return candidate
    return "z" * len(name)


def normalized(body, names):
    text = json.dumps(body, sort_keys=True)
    for n in names:
        text = re.sub(rf"\b{re.escape(n)}\b", "NAME", text)
    return text


def differential(hub, token, template, name, words, as_argument=False):
    """Sends `template` with `name`, then with a same-length name that never existed, and says
    whether the two answers differ once the names are taken out."""
    fake = bogus_like(name, words)
    fill = (lambda n: f"{n}: 7") if as_argument else (lambda n: n)
    doc_real, doc_fake = template.replace("FUZZ", fill(name)), template.replace("FUZZ", fill(fake))
    _, real = post(hub.url, doc_real, token)
    _, fake_answer = post(hub.url, doc_fake, token)
    differs = normalized(real, [name, fake]) != normalized(fake_answer, [name, fake])
    return differs, {"query": doc_real, "answer": real, "control": doc_fake, "control_answer": fake_answer}


def template_for(path, root="query"):
    return root + " { " + "".join(p + " { " for p in path) + "FUZZ" + " }" * len(path) + " }"


# The statistics entry points: ACCESS.md section 7 fixes the answer an anonymous caller gets there
# (FORBIDDEN), and names them, so they answer differently from a made-up name by the protocol's
# own rule (the hub's api/src/graphql/view/gate.rs, STATISTICS_ROOTS).
PUBLISHED_ROOTS = {"caseStatistics", "referralStatistics", "indicators", "referralQueue", "statisticsRelease", "statisticsReleases"}


def differential_sweep(hub, token, full_sdl, oracle_sdl_text, words):
    """Every name hidden from the viewer, probed where the viewer can reach: hidden root fields
    and type names at Query, hidden mutations, hidden fields and arguments of visible types."""
    full, view = SdlModel(full_sdl), SdlModel(oracle_sdl_text)
    probes = []  # (label, template, name, as_argument)
    for name in sorted(set(full.objects.get("Query", {})) - set(view.objects.get("Query", {})) - PUBLISHED_ROOTS):
        probes.append((f"Query.{name}", "query { FUZZ }", name, False))
    for name in sorted(n for n in full.types() if not n.startswith("__") and n not in view.types() and n not in BUILTIN_SCALARS):
        probes.append((f"type {name}", "query { FUZZ }", name, False))
    for name in sorted(set(full.objects.get("Mutation", {})) - set(view.objects.get("Mutation", {}))):
        probes.append((f"Mutation.{name}", "mutation { FUZZ }", name, False))
    for tname, path in sorted(view.paths_from("Query").items()):
        full_fields, view_fields = full.objects.get(tname, {}), view.objects[tname]
        if path:
            for name in sorted(set(full_fields) - set(view_fields)):
                probes.append((f"{tname}.{name}", template_for(path), name, False))
        for fname, (_, vargs) in view_fields.items():
            for arg in sorted(set(full_fields.get(fname, (None, []))[1]) - set(vargs)):
                probes.append((f"{tname}.{fname}({arg})", template_for(path).replace("FUZZ", fname + "(FUZZ)"), arg, True))
    distinguishable = []
    for label, template, name, as_argument in probes:
        differs, evidence = differential(hub, token, template, name, words, as_argument)
        if differs:
            distinguishable.append({"name": label, **evidence})
    return len(probes), distinguishable


INTROSPECTION_NAMES = """{ __schema { types { name kind
  fields(includeDeprecated: true) { name args { name } }
  inputFields { name } } } }"""


def told_names(hub, token):
    """What the viewer is told outright: the names in its introspection answer and in the
    federation `_service { sdl }` answer (None where it gets nothing)."""
    out = {}
    _, body = post(hub.url, INTROSPECTION_NAMES, token)
    schema = ((body or {}).get("data") or {}).get("__schema")
    if schema:
        types, fields, args = set(), set(), set()
        for t in schema.get("types") or []:
            name = t["name"]
            if name.startswith("__") or name in BUILTIN_SCALARS:
                continue
            types.add(name)
            for f in (t.get("fields") or []) + (t.get("inputFields") or []):
                fields.add(f"{name}.{f['name']}")
                for a in f.get("args") or []:
                    args.add(f"{name}.{f['name']}({a['name']})")
        out["introspection"] = {"types": types, "fields": fields, "args": args}
    _, body = post(hub.url, "{ _service { sdl } }", token)
    sdl = (((body or {}).get("data") or {}).get("_service") or {}).get("sdl")
    if sdl:
        named = names_of_sdl(sdl)
        out["_service { sdl }"] = {k: named[k] for k in ("types", "fields", "args")}
    return out


def recovered_graph(path):
    """clairvoyance's output as {type: {field: (type of the field, [args])}}."""
    doc = json.loads(Path(path).read_text())
    schema = (doc.get("data") or doc).get("__schema") or {}

    def name_of(ref):
        while ref and ref.get("ofType"):
            ref = ref["ofType"]
        return (ref or {}).get("name")

    return {
        t["name"]: {f["name"]: (name_of(f.get("type")), [a["name"] for a in f.get("args") or []]) for f in t.get("fields") or []}
        for t in schema.get("types") or []
    }


def recovered_paths(graph, root="Query"):
    paths = {root: []}
    queue = [root]
    while queue:
        t = queue.pop(0)
        for fname, (inner, _) in (graph.get(t) or {}).items():
            if inner in graph and graph[inner] and inner not in paths:
                paths[inner] = paths[t] + [fname]
                queue.append(inner)
    return paths


def confirm_leaks(hub, token, comparison, output, words):
    """Each name clairvoyance recovered that the viewer may not see, probed directly: confirmed
    when the hub answers differently than for a name that never existed (fields, arguments) or
    names the type in an answer (types). The rest are the tool's misreadings."""
    graph = recovered_graph(output)
    paths = recovered_paths(graph)
    confirmed, unconfirmed = [], []
    for kind in ("fields", "args", "types"):
        for label in comparison[kind]["leaks"]:
            evidence = None
            if kind == "types" and label in ("Mutation", "Subscription"):
                doc = f"{label.lower()} {{ __typename }}"
                _, answer = post(hub.url, doc, token)
                if ((answer or {}).get("data") or {}).get("__typename") == label:
                    evidence = {"query": doc, "answer": answer}
            elif kind == "types":
                for parent, fields in graph.items():
                    for fname, (inner, _) in fields.items():
                        if evidence is None and inner == label and parent in paths:
                            for doc in (template_for(paths[parent]).replace("FUZZ", fname), template_for(paths[parent]).replace("FUZZ", fname + " { zzz }")):
                                _, answer = post(hub.url, doc, token)
                                messages = [str((e or {}).get("message")) for e in (answer or {}).get("errors") or []]
                                quoted = {q.strip("[]!") for m in messages for q in m.split('"')[1::2]}
                                if label in quoted:
                                    evidence = {"query": doc, "answer": answer}
                                    break
            else:
                m = re.fullmatch(r"(\w+)\.(\w+)(?:\((\w+)\))?", label)
                tname, fname, arg = m.group(1), m.group(2), m.group(3)
                if tname in paths:
                    template = template_for(paths[tname])
                    if arg:
                        differs, ev = differential(hub, token, template.replace("FUZZ", fname + "(FUZZ)"), arg, words, True)
                    else:
                        differs, ev = differential(hub, token, template, fname, words)
                    evidence = ev if differs else None
            (confirmed if evidence else unconfirmed).append({"name": label, **(evidence or {})})
    return confirmed, unconfirmed


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the raccordo binary")
    parser.add_argument("--report-dir", default=os.environ.get("SECURITY_REPORT_DIR", "target/security-report"))
    parser.add_argument("--st-viewer", default=os.environ.get("SECURITY_ST_VIEWER", "ENTE_ANTITRATTA:COORDINATOR"))
    parser.add_argument("--st-examples", type=int, default=int(os.environ.get("SECURITY_ST_EXAMPLES", "25")))
    parser.add_argument("--st-max-time", type=int, default=int(os.environ.get("SECURITY_ST_MAX_TIME", "300")))
    parser.add_argument("--st-phases", default=os.environ.get("SECURITY_ST_PHASES", "fuzzing,stateful"))
    parser.add_argument("--st-workers", type=int, default=int(os.environ.get("SECURITY_ST_WORKERS", "2")))
    parser.add_argument("--st-timeout", type=int, default=int(os.environ.get("SECURITY_ST_TIMEOUT", "1200")))
    parser.add_argument("--seed", type=int, default=int(os.environ["SECURITY_SEED"]) if os.environ.get("SECURITY_SEED") else None)
    parser.add_argument(
        "--cv-viewers",
        default=os.environ.get("SECURITY_CV_VIEWERS", "anonymous QUESTURA:OPERATOR PREFETTURA:ANALYST"),
        help="space-separated: anonymous or KIND:ROLE",
    )
    parser.add_argument("--cv-timeout", type=int, default=int(os.environ.get("SECURITY_CV_TIMEOUT", "600")), help="time box per clairvoyance run, seconds")
    parser.add_argument("--cv-concurrency", type=int, default=int(os.environ.get("SECURITY_CV_CONCURRENCY", "8")))
    parser.add_argument(
        "--oracle",
        choices=["viewer", "full"],
        default=os.environ.get("SECURITY_ORACLE", "viewer"),
        help="viewer: raccordo schema --viewer SPEC (the check); full: plain raccordo schema (tests the mechanics only, never a pass)",
    )
    parser.add_argument("--skip", default=os.environ.get("SECURITY_SKIP", ""), help="any of: schemathesis clairvoyance differential")
    parser.add_argument("--keep", action="store_true", help="keep the hub's temporary folder")
    parser.add_argument("--show", type=int, default=int(os.environ.get("SECURITY_SHOW", "8")), help="examples printed per list")
    args = parser.parse_args()

    venv_bin = Path(sys.executable).parent
    report_dir = Path(args.report_dir).resolve()
    if report_dir.exists():
        shutil.rmtree(report_dir)
    report_dir.mkdir(parents=True)
    workdir = Path(tempfile.mkdtemp(prefix="raccordo-security-"))
    hub = Hub(os.path.abspath(args.bin), workdir, "security-" + secrets.token_hex(16))
    summary = {"findings": [], "schemathesis": None, "clairvoyance": []}
    failed = []

    def stop(*_):
        hub.stop()
        sys.exit(2)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        try:
            seconds = hub.start(timeout=600)
        except RuntimeError as e:
            log(f"the hub did not start: {e}")
            return 2
        log(f"hub listening at {hub.url} (started with the demo in {seconds:.0f} s; folder {workdir}; throttle flags: {' '.join(throttle_flags(hub.binary)) or 'none'})")
        kinds = agency_kinds(hub)
        rc, full_sdl, err = hub.command("schema")
        if rc != 0:
            log(f"raccordo schema failed: {err}")
            return 2
        (report_dir / "schema.graphql").write_text(full_sdl)
        full = names_of_sdl(full_sdl)

        # -- introspection -------------------------------------------------------------------
        st_agency, st_token = token_for(hub, kinds, args.st_viewer)
        partner_introspection, findings = introspection_checks(hub, st_token)
        summary["findings"] += findings
        for f in findings:
            log("FINDING: " + f["what"])

        # -- schemathesis --------------------------------------------------------------------
        if "schemathesis" not in args.skip:
            if partner_introspection:
                location = hub.url
            else:
                # The hub refuses the standard introspection query (reported above): give
                # schemathesis the same schema as SDL.
                location = str(report_dir / "schema.graphql")
                log("schemathesis loads the schema from `raccordo schema` (introspection refused)")
            log(f"schemathesis as {args.st_viewer} of {st_agency}, {args.st_examples} examples per operation")
            st = run_schemathesis(hub, args, st_token, location, report_dir / "schemathesis", venv_bin)
            summary["schemathesis"] = st
            real = [f for f in st["failures"] if f["verdict"] == "real"]
            if st.get("error") or st["exit_code"] == "timeout" or real or st.get("errors") or not st.get("cases"):
                failed.append("schemathesis")
            if not hub.alive():
                failed.append("hub died during schemathesis")
                log("the hub died:\n" + hub.log_tail())
                return finish(summary, failed, report_dir, hub, workdir, args)

        # -- clairvoyance --------------------------------------------------------------------
        if "clairvoyance" not in args.skip:
            wordlist = report_dir / "wordlist.txt"
            words = sorted(w for w in full["words"] | set(COMMON_WORDS) if re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", w))
            wordlist.write_text("\n".join(words) + "\n")
            log(f"clairvoyance wordlist: {len(words)} words (every name of the full schema, and {len(COMMON_WORDS)} common words)")
            for spec in args.cv_viewers.split():
                agency, token = token_for(hub, kinds, spec)
                sdl, oracle_name = oracle_sdl(hub, spec, args.oracle)
                log(f"clairvoyance as {spec}{' of ' + agency if agency else ''} (time box {args.cv_timeout} s)")
                hidden = hidden_names(hub, spec, full)
                run = run_clairvoyance(
                    hub, spec, token, wordlist, report_dir / "clairvoyance", venv_bin, args.cv_timeout, args.cv_concurrency, hidden
                )
                entry = {
                    "viewer": spec,
                    "agency": agency,
                    "seconds": run["seconds"],
                    "timed_out": run["timed_out"],
                    "exit_code": run["exit_code"],
                    "oracle": oracle_name,
                    "requests": run["stats"].get("requests"),
                    "limit_exceeded": run["stats"].get("limit_exceeded"),
                    "rate_limited": run["stats"].get("rate_limited"),
                    "codes": run["stats"].get("codes"),
                    "internal": run["stats"].get("internal"),
                    "untranslated": run["stats"].get("untranslated"),
                    "hidden_names": {k: len(v) for k, v in hidden.items()} if hidden else None,
                    "messages_naming_hidden": run["stats"].get("named_hidden_count"),
                }
                problems = []
                if hidden is None:
                    problems.append(f"`raccordo schema --viewer {spec}` failed: no list of hidden names")
                elif run["stats"].get("named_hidden_count"):
                    entry["named_hidden"] = run["stats"].get("named_hidden")
                    problems.append(f"{run['stats']['named_hidden_count']} error message(s) quoted a name outside this viewer's view")
                if sdl is None:
                    problems.append("no oracle: " + oracle_name)
                else:
                    undefined = SdlModel(sdl).undefined()
                    if undefined:
                        entry["oracle_undefined_types"] = undefined
                        problems.append(f"the oracle's SDL uses types it does not define: {', '.join(undefined)}")
                gave_up = run["output"] is None and "Unable to get TypeRef" in Path(run["log"]).read_text(errors="replace")
                if gave_up:
                    # Every name it tried answered alike, so it could not type any of them and
                    # recovered nothing: what the gate for anonymous callers is for. The
                    # differential probe below checks the same thing name by name.
                    entry["recovered"] = {"types": [], "fields": [], "args": []}
                    entry["note"] = "clairvoyance gave up: every name answered alike, nothing recovered"
                elif run["output"] is None:
                    problems.append(f"clairvoyance wrote no schema (exit {run['exit_code']}; see {run['log']})")
                if run["timed_out"]:
                    problems.append(f"time box of {args.cv_timeout} s reached: the comparison covers a partial recovery")
                if entry["internal"]:
                    problems.append(f"{len(entry['internal'])} answer(s) with INTERNAL")
                if run["output"] is not None:
                    recovered = names_of_recovered(run["output"], full)
                    entry["recovered"] = {k: sorted(v) for k, v in recovered.items()}
                    if hidden is not None:
                        # Whatever the oracle: no type outside the view, and of the hidden fields
                        # only those of visible types, which ACCESS.md section 4 makes valid (null).
                        hidden_types, hidden_fields = set(hidden["types"]), set(hidden["fields"])
                        got_types = sorted(recovered["types"] & hidden_types)
                        got_fields = sorted(recovered["fields"] & hidden_fields)
                        of_hidden_types = [f for f in got_fields if f.split(".")[0] in hidden_types]
                        entry["hidden_recovered"] = {
                            "types": got_types,
                            "types_hidden": len(hidden_types),
                            "fields": got_fields,
                            "fields_hidden": len(hidden_fields),
                            "fields_of_hidden_types": of_hidden_types,
                        }
                        if got_types or of_hidden_types:
                            problems.append(
                                f"recovered {len(got_types)} type(s) outside the view and {len(of_hidden_types)} field(s) of such types"
                            )
                    if sdl is not None:
                        oracle = names_of_sdl(sdl)
                        entry["comparison"] = compare(recovered, oracle, full)
                        confirmed, unconfirmed = confirm_leaks(hub, token, entry["comparison"], run["output"], full["words"])
                        entry["leaks_confirmed"], entry["leaks_unconfirmed"] = confirmed, unconfirmed
                        if confirmed:
                            problems.append(f"{len(confirmed)} name(s) recovered that this viewer may not see (each confirmed by a direct probe)")
                        if not recovered["fields"]:
                            problems.append("inconclusive: clairvoyance recovered no field at all")
                if sdl is not None:
                    oracle_names = names_of_sdl(sdl)
                    entry["told"] = {}
                    for source, names in told_names(hub, token).items():
                        beyond = sorted(
                            n for k in ("types", "fields", "args") for n in names[k] - oracle_names[k]
                            if not n.startswith("_") and not n.startswith(("Query._", "Mutation._"))
                        )
                        federation = sorted(
                            n for k in ("types", "fields", "args") for n in names[k] - oracle_names[k]
                            if n.startswith("_") or n.startswith(("Query._", "Mutation._"))
                        )
                        entry["told"][source] = {"names": sum(len(v) for v in names.values()), "beyond_view": beyond, "federation": federation}
                        if beyond:
                            problems.append(f"{source} tells this viewer {len(beyond)} name(s) outside its view")
                if sdl is not None and "differential" not in args.skip:
                    started = time.monotonic()
                    probed, distinguishable = differential_sweep(hub, token, full_sdl, sdl, full["words"])
                    entry["differential"] = {
                        "probed": probed,
                        "seconds": round(time.monotonic() - started, 1),
                        "distinguishable": distinguishable,
                    }
                    if distinguishable:
                        problems.append(f"{len(distinguishable)} of {probed} hidden names answer differently from a name that never existed")
                if args.oracle == "full":
                    problems.append("oracle is the full schema: this run tests the mechanics only")
                entry["problems"] = problems
                summary["clairvoyance"].append(entry)
                if problems:
                    failed.append(f"clairvoyance {spec}")
                if not hub.alive():
                    failed.append("hub died during clairvoyance")
                    log("the hub died:\n" + hub.log_tail())
                    break
        if summary["findings"]:
            failed.append("findings")
        return finish(summary, failed, report_dir, hub, workdir, args)
    finally:
        hub.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def short(value, limit=600):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def finish(summary, failed, report_dir, hub, workdir, args):
    hub.stop()
    shutil.copy(hub.err, report_dir / "hub-stderr.txt") if hub.err.exists() else None
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str, ensure_ascii=False))
    print()
    print("=" * 100)
    print("SECURITY SUMMARY")
    print("=" * 100)
    for f in summary["findings"]:
        print(f"FINDING  {f['what']}\n  query:  {short(f['query'])}\n  answer: {short(f['answer'])}")
    st = summary["schemathesis"]
    if st:
        real = [f for f in st["failures"] if f["verdict"] == "real"]
        fp = [f for f in st["failures"] if f["verdict"] != "real"]
        print(
            f"\nschemathesis: {st['cases']} test cases on {st['operations']} operations in {st['seconds']} s "
            f"(seed {st.get('seed')}); {len(st['failures'])} unique failures: {len(real)} real, {len(fp)} false positives of the tool"
        )
        if st.get("error"):
            print("  " + st["error"])
        for e in st.get("errors") or []:
            print(f"  ERROR  {short(e)}")
        for f in real:
            print(f"  REAL   [{f['check']} {f['code'] or ''}] {f['operation']}: {f['why']}")
            print(f"         query:  {short(f['query'])}")
            print(f"         answer: HTTP {f['status']} {short(f['answer'])}")
        groups = {}
        for f in fp:
            groups.setdefault(f["why"], []).append(f["operation"])
        for why, ops in groups.items():
            print(f"  FALSE POSITIVE x{len(ops)}: {why} ({', '.join(sorted(set(ops))[:8])}{'…' if len(set(ops)) > 8 else ''})")
    for c in summary["clairvoyance"]:
        status = "PASS" if not c["problems"] else "FAIL"
        print(
            f"\nclairvoyance as {c['viewer']}{' (' + c['agency'] + ')' if c['agency'] else ''}: {status} in {c['seconds']} s, "
            f"{c['requests']} requests ({c['rate_limited']} waits on the throttle), {c['limit_exceeded']} refused by a limit; oracle: {c['oracle']}"
        )
        if c.get("note"):
            print(f"  {c['note']}")
        if c.get("hidden_names"):
            print(
                f"  error messages quoting one of the {c['hidden_names']['types']} types and {c['hidden_names']['fields']} fields "
                f"outside this viewer's view: {c.get('messages_naming_hidden') or 0}"
            )
            for e in c.get("named_hidden") or []:
                print(f"    {short(e['message'], 300)}  <- {short(e['query'], 200)}")
        hr = c.get("hidden_recovered")
        if hr:
            print(
                f"  recovered of what is outside the view: {len(hr['types'])} of {hr['types_hidden']} types, "
                f"{len(hr['fields'])} of {hr['fields_hidden']} fields ({len(hr['fields_of_hidden_types'])} of hidden types; "
                f"the others are fields of visible types, valid and null by ACCESS.md section 4)"
            )
        comp = c.get("comparison")
        if comp:
            for kind in ("types", "fields", "args"):
                k = comp[kind]
                print(
                    f"  {kind:6}: recovered {k['recovered']:4}, of which visible {k['recovered_visible']:4} / {k['visible']:4} visible; "
                    f"leaks {len(k['leaks'])}, tool artifacts {len(k['artifacts'])}"
                )
                if k["leaks"]:
                    print(f"          not in the view: {', '.join(k['leaks'][:40])}{' …' if len(k['leaks']) > 40 else ''}")
                if k["artifacts"]:
                    print(f"          artifacts (not in the schema at all): {', '.join(k['artifacts'][:10])}{' …' if len(k['artifacts']) > 10 else ''}")
        for source, t in (c.get("told") or {}).items():
            print(f"  {source}: {t['names']} names, {len(t['beyond_view'])} outside the view (and {len(t['federation'])} federation names)")
            if t["beyond_view"]:
                print(f"    e.g. {short(', '.join(t['beyond_view']), 600)}")
        if c.get("leaks_confirmed") is not None:
            print(f"  recovered outside the view: {len(c['leaks_confirmed'])} confirmed by a direct probe, {len(c['leaks_unconfirmed'])} not confirmed (the tool's misreadings)")
            for x in c["leaks_confirmed"][: args.show]:
                print(f"    LEAK {x['name']}:\n      {x['query']}  ->  {short(x['answer'], 300)}")
                if x.get("control"):
                    print(f"      {x['control']}  ->  {short(x['control_answer'], 300)}")
        d = c.get("differential")
        if d:
            print(f"  differential: {d['probed']} hidden names probed in {d['seconds']} s, {len(d['distinguishable'])} distinguishable from a name that never existed")
            for x in d["distinguishable"][: args.show]:
                print(f"    {x['name']}:\n      {x['query']}  ->  {short(x['answer'], 300)}\n      {x['control']}  ->  {short(x['control_answer'], 300)}")
            if len(d["distinguishable"]) > args.show:
                names = ", ".join(x["name"] for x in d["distinguishable"][args.show:])
                print(f"    and: {short(names, 2000)}")
        for p in c["problems"]:
            print(f"  PROBLEM: {p}")
        for i in c.get("internal") or []:
            print(f"  INTERNAL: query {short(i['query'])}\n            answer {short(i['answer'])}")
    print(f"\nreports: {report_dir}")
    if failed:
        print(f"RESULT: FAILED ({', '.join(dict.fromkeys(failed))})")
        return 1
    print("RESULT: PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
