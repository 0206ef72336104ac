"""Several processes capturing into one project at once lose nothing and never hit 'database is locked'."""

import json
import subprocess
import sys
import textwrap

import fieldkit

WRITER = textwrap.dedent("""
    import sys
    import fieldkit
    from fieldkit.fieldwork import capture

    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    project = fieldkit.open(path)
    for i in range(count):
        capture.jot(project, f"worker {worker} jotting {i} uniqueword{worker}x{i}")
    project.close()
""")


def test_four_processes_write_500_jottings_each(tmp_path):
    path = tmp_path / "shared"
    fieldkit.init(path).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(path), str(w), "500"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        assert "locked" not in err
    project = fieldkit.open(path)
    bodies = [o.body for o in project.list("observation")]
    assert len(bodies) == 2000
    assert len(set(bodies)) == 2000
    expected = {f"worker {w} jotting {i} uniqueword{w}x{i}" for w in range(4) for i in range(500)}
    assert set(bodies) == expected
    # intact history: one create line in the audit log per jotting, no revisions (jottings never change)
    creates = project.db.execute("select count(*) from audit where action = 'create' and record_type = 'observation'").fetchone()[0]
    assert creates == 2000
    assert project.db.execute("select count(*) from revisions").fetchone()[0] == 0
    # intact search index
    project.db.execute("insert into observations_fts(observations_fts) values ('integrity-check')")
    assert project.db.execute("select count(*) from observations_fts").fetchone()[0] == 2000
    for w, i in [(0, 0), (1, 250), (2, 499), (3, 123)]:
        hits = project.search(f"uniqueword{w}x{i}")
        assert len(hits) == 1
    assert project.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    project.close()
