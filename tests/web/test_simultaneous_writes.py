"""Many coders writing at once, with an import in between: no error, nothing lost or doubled.

The server runs on a SQLite file (and PostgreSQL where one is available); every request's work
is one transaction that the services join, state-changing requests in write transactions.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from tests.web.test_events import event_body

from classdyad.model import EventRevision, InteractionEvent

THREADS = 12
EVENTS_PER_THREAD = 10

ROSTER = (
    "school,class,grade,teacher,student,first name,last name,gender,birth year,"
    "birth country,wave\n"
    "S950,C950,7,T0001,P950001,Anna,Jansen,girl,2014,NL,1\n"
    "S950,C950,7,T0001,P950002,Bram,de Vries,boy,2014,MA,1\n"
)


def test_simultaneous_coders_and_an_import_lose_and_double_nothing(server) -> None:
    bodies = {str(uuid.uuid4()): event_body(server, video_seconds=float(i), frame=25 * i)
              for i in range(THREADS * EVENTS_PER_THREAD)}
    ids = list(bodies)
    # every event is sent by two threads (each with its own login) at about the same time
    chunks = [ids[i::THREADS] for i in range(THREADS)]
    shifted = chunks[1:] + chunks[:1]
    clients = [server.client("coder") for _ in range(2 * THREADS)]
    researcher = server.client("researcher")

    def write(args: tuple[int, list[str]]) -> list[int]:
        index, chunk = args
        return [clients[index].put(f"/api/v1/events/{c}", json=bodies[c]).status_code
                for c in chunk]

    def import_roster() -> int:
        return researcher.post("/api/v1/imports/roster", content=ROSTER.encode(),
                               params={"filename": "roster.csv", "dry_run": "false"}
                               ).status_code

    with ThreadPoolExecutor(2 * THREADS + 1) as pool:
        imported = pool.submit(import_roster)
        answers = list(pool.map(write, enumerate(chunks + shifted)))
    statuses = [status for answer in answers for status in answer]
    assert imported.result() == 200
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert statuses.count(201) == len(ids)  # each stored once; its twin answered 200
    with server.engine.connect() as connection:
        stored = connection.execute(sa.select(InteractionEvent.client_id, sa.func.count())
                                    .where(InteractionEvent.client_id.in_(ids))
                                    .group_by(InteractionEvent.client_id)).all()
        revisions = connection.scalar(sa.select(sa.func.count()).select_from(EventRevision)
                                      .where(EventRevision.client_id.in_(ids)))
    assert len(stored) == len(ids) and {n for _, n in stored} == {1}
    assert revisions == len(ids)
    students = researcher.get("/api/v1/students", params={"classroom": "C950"})
    assert students.status_code == 200 and len(students.json()) == 2
