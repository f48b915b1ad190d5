"""Runs clairvoyance (2.5.5, pinned in requirements.txt) against the hub, adapted to it.

clairvoyance reads graphql-js / Apollo error wordings; the hub is async-graphql, whose validation
messages say the same things in other words. Left alone, clairvoyance misreads every answer: it
keeps a probed name unless the answer says `Cannot query field "x"`, so against async-graphql it
"recovers" every word of its wordlist. This wrapper translates async-graphql's wordings into the
ones clairvoyance knows, carrying exactly the information the hub gave and nothing more:

  Unknown field "x" on type "T".                        -> Cannot query field "x" on type "T".
  Field "f" of type "T" must have a selection of subfields
                                    -> ... must have a selection of subfields. Did you mean "f { ... }"?
  Field "f" must not have a selection since type "T" has no subfields   -> the same, with a final "."
  Invalid value for argument "a", expected type "T"      -> Expected type T, found 42.

The hub rewords a validation message that would name a type or field outside the caller's view
into "the request is not valid: it refers to a type or field that your agency cannot read ..."
(MASKED below, the hub's api/src/graphql/view/mod.rs), with the location of the offending name. clairvoyance knows no such message (and aborts when a field's type cannot be
read from any answer); the wrapper reads the name at that location and gives clairvoyance the
plain meaning, "you cannot use this name here":

  (masked, at a field)     -> Cannot query field "NAME" on type "HiddenByTheHub".
  (masked, at an argument) -> Unknown argument "NAME" on field "hiddenByTheHub".

Whether a masked answer itself differs from the answer for a name that never existed is not
clairvoyance's business: check.py probes that directly (the "differential" check).

Two more adaptations:

- clairvoyance sends 64 names per request (hard-coded); the hub answers more than 20 root fields
  with LIMIT_EXCEEDED. The bucket is set to CLAIRVOYANCE_BUCKET (default 16).
- An answer refused by the throttle ("too many requests ... try again in N s") is sent again after
  N seconds. Any other answer refused by a limit (`LIMIT_EXCEEDED`) says nothing about the names
  in it; it is turned into an answer clairvoyance reads as "nothing valid here" (instead of "all
  valid"), and counted.

Every message the hub sends is also checked, before any translation, for names the caller may
never learn: CLAIRVOYANCE_HIDDEN names a JSON file {"types": [...], "fields": ["Type.field", ...]}
of the schema's names outside the caller's view (check.py writes it); a message naming a hidden
type as a type, or a hidden field with its type, is counted in "named_hidden" (the first few
kept).

Statistics (requests, limit answers, messages left untranslated, hidden names told) go to the
JSON file named by CLAIRVOYANCE_STATS, for the report. Usage: the same arguments as the `clairvoyance` command.
"""

import asyncio
import atexit
import collections
import json
import os
import re

import clairvoyance.config
from clairvoyance.cli import cli
from clairvoyance.client import Client

BUCKET = int(os.environ.get("CLAIRVOYANCE_BUCKET", "16"))
STATS = {
    "requests": 0,
    "limit_exceeded": 0,
    # Masked messages read back into "cannot use this name here".
    "unmasked": 0,
    # Answers "too many requests ... try again in N s": waited for, then sent again.
    "rate_limited": 0,
    "untranslated": collections.Counter(),
    "codes": collections.Counter(),
    # Documents the hub answered with INTERNAL (a finding in itself), the first few.
    "internal": [],
    # Messages that quoted a name outside the caller's view (a leak), and the first few of them.
    "named_hidden_count": 0,
    "named_hidden": [],
}


def _hidden():
    path = os.environ.get("CLAIRVOYANCE_HIDDEN")
    if not path:
        return set(), set()
    with open(path, encoding="utf-8") as f:
        names = json.load(f)
    return set(names.get("types", [])), set(names.get("fields", []))


HIDDEN_TYPES, HIDDEN_FIELDS = _hidden()


def names_hidden(message):
    """Whether a message names a hidden type where it speaks of a type (`type "T"`, list and
    non-null marks taken off), or a hidden field with the type it belongs to (`field "f" on type
    "T"`): the same reading as the hub's (api/src/graphql/view/mod.rs). A quoted word in another
    role is the caller's own (`Unknown field "CaseNote" on type "Query"`)."""
    parts = message.split('"')
    role = lambda i, word: parts[i - 1].rstrip().lower().endswith(word)
    for i in range(1, len(parts) - 1, 2):
        name = parts[i].strip("[]!")
        if role(i, "type"):
            if name in HIDDEN_TYPES:
                return True
        elif role(i, "field") and i + 2 < len(parts) - 1 and role(i + 2, "type"):
            if f"{parts[i + 2].strip('[]!')}.{name}" in HIDDEN_FIELDS:
                return True
    return False


# Wordings clairvoyance already reads, or that carry nothing about names.
KNOWN = (
    "Cannot query field",
    "Expected type",
    "Unknown argument",
    REFUSED := "The hub refused this document (LIMIT_EXCEEDED), so it must not have a sub selection",
)

_config_init = clairvoyance.config.Config.__init__


def _config(self):
    _config_init(self)
    self._bucket_size = BUCKET


clairvoyance.config.Config.__init__ = _config

NAME = r"[_0-9A-Za-z\.\[\]!]+"
RULES = [
    (re.compile(rf'Unknown field "(?P<f>{NAME})" on type "(?P<t>{NAME})"\.?'),
     lambda m: f'Cannot query field "{m["f"]}" on type "{m["t"]}".'),
    (re.compile(rf'Field "(?P<f>{NAME})" of type "(?P<t>{NAME})" must have a selection of subfields'),
     lambda m: f'Field "{m["f"]}" of type "{m["t"]}" must have a selection of subfields. Did you mean "{m["f"]} {{ ... }}"?'),
    (re.compile(rf'Field "(?P<f>{NAME})" must not have a selection since type "(?P<t>{NAME})" has no subfields'),
     lambda m: f'Field "{m["f"]}" must not have a selection since type "{m["t"]}" has no subfields.'),
    (re.compile(rf'Invalid value for argument "(?P<a>{NAME})"(, .*)?, expected type "(?P<t>{NAME})"'),
     lambda m: f'Expected type {m["t"]}, found 42.'),
]
MASKED = (
    "the request is not valid: it refers to a type or field that your agency cannot read under "
    "the protocol (`raccordo schema --viewer KIND:ROLE` lists what it can)"
)
IDENT = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def unmask(error, document):
    """The plain meaning of a masked message, from the name at its location (or None)."""
    try:
        loc = error["locations"][0]
        line = (document or "").split("\n")[loc["line"] - 1]
        at = loc["column"] - 1
    except (KeyError, IndexError, TypeError):
        return None
    m = IDENT.match(line, at)
    if not m:
        return None
    rest = line[m.end():].lstrip()
    STATS["unmasked"] += 1
    if rest.startswith(":"):
        return f'Unknown argument "{m.group(0)}" on field "hiddenByTheHub".'
    return f'Cannot query field "{m.group(0)}" on type "HiddenByTheHub".'


def translate(response, document):
    if not isinstance(response, dict):
        return response
    errors = response.get("errors")
    if not isinstance(errors, list):
        return response
    codes = [((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)]
    for c in codes:
        STATS["codes"][str(c)] += 1
    if "INTERNAL" in codes and len(STATS["internal"]) < 10:
        STATS["internal"].append({"query": document, "answer": response})
    if "LIMIT_EXCEEDED" in codes:
        STATS["limit_exceeded"] += 1
        return {"data": None, "errors": [{"message": REFUSED}]}
    out = []
    for e in errors:
        if not isinstance(e, dict) or not isinstance(e.get("message"), str):
            out.append(e)
            continue
        message = e["message"]
        if names_hidden(message):
            STATS["named_hidden_count"] += 1
            if len(STATS["named_hidden"]) < 10:
                STATS["named_hidden"].append({"query": document, "message": message})
        if message == MASKED:
            message = unmask(e, document) or message
        for pattern, rewrite in RULES:
            m = pattern.fullmatch(message)
            if m:
                message = rewrite(m)
                break
        else:
            if not message.startswith(KNOWN):
                STATS["untranslated"][re.sub(r'"[^"]*"', '"…"', message)] += 1
        out.append({**e, "message": message})
    return {**response, "errors": out}


_post = Client.post


RETRY = re.compile(r"try again in (\d+) s")


def retry_after(response):
    """Seconds to wait when the hub's throttle turned the request away, else None."""
    for e in (response or {}).get("errors") or [] if isinstance(response, dict) else []:
        m = RETRY.search(str((e or {}).get("message")))
        if m and ((e or {}).get("extensions") or {}).get("code") == "LIMIT_EXCEEDED":
            return int(m.group(1)) + 0.2
    return None


async def _translated_post(self, document, retries=0):
    if retries == 0:
        STATS["requests"] += 1
    response = await _post(self, document, retries)
    for _ in range(30):
        wait = retry_after(response)
        if wait is None:
            break
        STATS["rate_limited"] += 1
        await asyncio.sleep(wait)
        response = await _post(self, document, retries)
    return translate(response, document)


Client.post = _translated_post


@atexit.register
def _write_stats():
    path = os.environ.get("CLAIRVOYANCE_STATS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(
                {
                    **STATS,
                    "untranslated": dict(STATS["untranslated"].most_common(20)),
                    "codes": dict(STATS["codes"]),
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    cli()
