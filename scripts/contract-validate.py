"""Validates saved responses against the OpenAPI document (for scripts/contract.sh).

    contract-validate.py OPENAPI.json METHOD PATH STATUS BODY.json [...]

Checks the responses of the set-up requests (key and media uploads) that
schemathesis cannot produce itself: its generated uploads are never valid audio.
"""

import json
import sys

import jsonschema_rs


def main() -> int:
    doc = json.load(open(sys.argv[1]))
    failures = 0
    args = sys.argv[2:]
    for method, path, status, body_file in zip(args[0::4], args[1::4], args[2::4], args[3::4]):
        response = doc["paths"][path][method.lower()]["responses"][status]
        schema = dict(response["content"]["application/json"]["schema"])
        schema["components"] = doc["components"]
        body = json.load(open(body_file))
        errors = list(jsonschema_rs.Draft202012Validator(schema).iter_errors(body))
        for e in errors:
            print(f"contract: {method} {path} {status}: {e.message} at {list(e.instance_path)}")
        failures += bool(errors)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
