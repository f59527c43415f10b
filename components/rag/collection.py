"""The script of the collection Job (components/rag/vectorstore.py): creates the RAG collection with the embedding
model's dimension, or fails when an existing collection has another one (a changed embedding model would
otherwise write vectors Qdrant rejects, or search a space the old vectors do not live in).

Qdrant REST API (qdrant.tech/documentation/concepts/collections): PUT /collections/<name> with
{"vectors": {"size", "distance"}, "shard_number", "replication_factor"}; GET /collections/<name> answers 404 when
absent, else result.config.params.vectors.size. The key goes in the `api-key` header; the script reads it from
the file QDRANT_API_KEY_FILE names (a secret volume). Standard library only, so the Job runs on a plain Python
image.
"""

SCRIPT = r'''
import json, os, sys, time, urllib.error, urllib.request

BASE, NAME = os.environ["QDRANT_URL"], os.environ["COLLECTION"]
SIZE, DISTANCE = int(os.environ["DIMENSIONS"]), os.environ["DISTANCE"]
with open(os.environ["QDRANT_API_KEY_FILE"]) as f:
    HEADERS = {"api-key": f.read().strip(), "content-type": "application/json"}


def call(method, body=None):
    req = urllib.request.Request(f"{BASE}/collections/{NAME}", method=method, headers=HEADERS,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


for attempt in range(60):      # Qdrant may still be starting (or electing a Raft leader): up to 10 minutes
    try:
        found = call("GET")
        break
    except urllib.error.HTTPError as err:
        if err.code == 404:
            found = None
            break
        print(f"GET {NAME}: HTTP {err.code}; retrying", flush=True)
    except OSError as err:
        print(f"GET {NAME}: {err}; retrying", flush=True)
    time.sleep(10)
else:
    sys.exit(f"Qdrant at {BASE} did not answer")

if found is None:
    call("PUT", {"vectors": {"size": SIZE, "distance": DISTANCE}, "shard_number": int(os.environ["SHARDS"]),
                 "replication_factor": int(os.environ["REPLICATION_FACTOR"])})
    print(f"created {NAME}: {SIZE} dimensions, {DISTANCE}")
else:
    vectors = found["result"]["config"]["params"]["vectors"]
    if vectors.get("size") != SIZE or vectors.get("distance") != DISTANCE:
        sys.exit(f"collection {NAME} has {vectors.get('size')} dimensions ({vectors.get('distance')}), the "
                 f"embedding model gives {SIZE} ({DISTANCE}): use a new collection name or re-index")
    print(f"{NAME} exists with {SIZE} dimensions, {DISTANCE}")
'''
