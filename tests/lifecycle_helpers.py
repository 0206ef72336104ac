"""A small fictional study for the lifecycle tests: two sites, three participants, one
interview transcript with speaker turns, one focus group, coded quotes and a key store."""

from __future__ import annotations

from pathlib import Path

TRANSCRIPT = (
    "[00:00:05] R1: Can you tell me about supervision at Fernhollow?\n\n"
    "[00:00:12] P03: Honestly my officer Oriel Thackaberry listened when nobody else did.\n\n"
    "[00:00:30] R1: What changed after that?\n\n"
    "[00:00:41] P03: I started turning up on time because the appointments felt like mine.\n"
)
GROUP = (
    "P01: The caseloads at Brackwater are too high for proper work.\n\n"
    "P03: We all knew the reporting centre was understaffed.\n\n"
    "P02: Nobody read the sentence plans anyway.\n"
)


def build(project, *, keystore: bool = True, consent_scopes=("observation", "audio", "quotes", "archive")):
    """Fill ``project`` with the study; returns a dict of the ids tests need."""
    from fieldkit.coding.codebook import add_code
    from fieldkit.coding.codings import apply_code
    from fieldkit.core.records import Observation
    from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site
    from fieldkit.privacy.consent import record_consent

    add_site(project, "Fernhollow PDU")
    add_site(project, "Brackwater office")
    add_participant(project, "P01", role="probation_practitioner", attributes={"grade": "PO"})
    add_participant(project, "P02", role="manager", attributes={"grade": "SPO"})
    add_participant(project, "P03", role="person_on_probation")
    add_participant(project, "R1", role="researcher")
    for code in ("P01", "P02", "P03", "R1"):
        record_consent(project, code, "given", consent_scopes)
    interview = add_encounter(project, "interview", site="Fernhollow PDU", participants=["P03:interviewee", "R1"])
    group = add_encounter(project, "focus_group", site="Brackwater office", participants=["P01", "P02", "P03"])
    transcript = project.add(Observation(stage="fieldnote", body=TRANSCRIPT, encounter_id=interview.id))
    discussion = project.add(Observation(stage="fieldnote", body=GROUP, encounter_id=group.id))
    jotting = project.add(Observation(stage="jotting", body="quick jot: waiting room noisy", encounter_id=group.id))
    add_code(project, "trust")
    add_code(project, "resources")
    q1 = apply_code(project, transcript.id, "trust", quote="my officer Oriel Thackaberry listened")
    q2 = apply_code(project, transcript.id, "trust", quote="the appointments felt like mine")
    q3 = apply_code(project, discussion.id, "resources", quote="the reporting centre was understaffed")
    other = apply_code(project, discussion.id, "resources", quote="caseloads at Brackwater are too high")
    if keystore:
        from fieldkit.privacy.anonymiser import create_keystore

        store = create_keystore(project, Path(project.path).parent / "study.keys")
        try:
            store.add("OFFICER1", "Oriel Thackaberry", kind="non-participant")
        finally:
            store.close()
    return {"interview": interview.id, "group": group.id, "transcript": transcript.id,
            "discussion": discussion.id, "jotting": jotting.id, "codings": (q1.id, q2.id, q3.id, other.id)}
