"""Drawing the replica's people: schools, classes, teachers, students, backgrounds and enrolments.

Backgrounds are drawn as *raw* data (countries of birth, parents' education) that the CBS and
pupil-weight rules of :mod:`classdyad.model.background` classify back into the intended groups;
the generator never writes a derived group into the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.simulate.design import ORIGINS, ReplicaDesign, ReplicaTruth

#: countries of birth drawn for each origin group (ISO 3166 alpha-2)
ORIGIN_COUNTRIES: dict[str, tuple[str, ...]] = {
    "western": ("DE", "BE", "PL", "GB", "ID", "US", "BG", "RO", "ES", "IT", "JP", "FR"),
    "turkish": ("TR",),
    "moroccan": ("MA",),
    "surinamese": ("SR",),
    "antillean_aruban": ("CW", "AW"),
    "other_non_western": ("SY", "AF", "ER", "SO", "CN", "IN", "GH", "IQ", "IR", "BR", "CV",
                          "EG"),
}

#: Education levels (lowest first) as classdyad.model.background.EducationLevel values
EDUCATION_LEVELS = ("primary", "prevocational_basic", "prevocational_theoretical",
                    "upper_secondary", "higher")
_EDUCATION_P = np.array([0.03, 0.12, 0.15, 0.40, 0.30])
SUBJECTS = ("arithmetic", "reading", "spelling", "language", "world orientation")


@dataclass(frozen=True)
class Population:
    """The drawn people and their truth-relevant attributes (internal to the simulator)."""

    schools: pd.DataFrame
    classrooms: pd.DataFrame
    teachers: pd.DataFrame
    classroom_teachers: pd.DataFrame
    students: pd.DataFrame
    enrolments: pd.DataFrame
    student_origin: np.ndarray
    student_low_ses: np.ndarray
    student_boy: np.ndarray


def _allocate(total: int, groups: int, minimum: int, rng: np.random.Generator,
              spread: float = 8.0) -> np.ndarray:
    """Split ``total`` into ``groups`` parts of at least ``minimum``, gamma-distributed sizes."""
    weights = rng.gamma(spread, size=groups)
    extra = rng.multinomial(total - minimum * groups, weights / weights.sum())
    return minimum + extra


@dataclass(frozen=True)
class DrawnPeople:
    """The drawn people as numpy arrays, before any table is built (internal to the simulator).

    Ids are positions plus one: school ``s`` is ``s + 1``, class ``j`` is ``j + 1``; teacher
    ``j + 1`` is class ``j + 1``'s (primary) teacher and duo partners follow the classes'
    teachers in class order. Enrolments run by student, then wave. A student's origin is both
    a position in ``origin_groups`` (``student_origin_group``) and its name
    (``student_origin``).
    """

    class_school: np.ndarray
    lowest_grade: np.ndarray
    highest_grade: np.ndarray
    duo: np.ndarray
    teacher_girl: np.ndarray
    teacher_years: np.ndarray
    student_class: np.ndarray
    origin_groups: np.ndarray
    student_origin_group: np.ndarray
    student_origin: np.ndarray
    student_low_ses: np.ndarray
    student_boy: np.ndarray
    birth_year: np.ndarray
    countries: tuple[np.ndarray, np.ndarray, np.ndarray]
    education: tuple[np.ndarray, np.ndarray]
    enrolment_student: np.ndarray
    enrolment_class: np.ndarray
    enrolment_wave: np.ndarray
    enrolment_grade: np.ndarray

    @property
    def n_schools(self) -> int:
        """Number of schools (every school has a class)."""
        return int(self.class_school.max())

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_school)

    @property
    def n_teachers(self) -> int:
        """Number of teachers: one per class plus the duo partners."""
        return len(self.teacher_girl)

    @property
    def n_students(self) -> int:
        """Number of students."""
        return len(self.student_class)


def draw_people(design: ReplicaDesign, truth: ReplicaTruth,
                rng: np.random.Generator) -> DrawnPeople:
    """Draw schools, classes, teachers, students with raw backgrounds, and enrolments per wave.

    The arrays behind :func:`draw_population`, which draws the same people from the same
    generator state and lays them out as tables.
    """
    n_schools, n_classes = design.scaled("schools"), design.scaled("classes")
    n_students = design.scaled("students")
    classes_per_school = _allocate(n_classes, n_schools, 1, rng, spread=4.0)
    class_school = np.repeat(np.arange(1, n_schools + 1), classes_per_school)
    grade_choices = design.grades
    combined = rng.random(n_classes) < design.combination_class_share
    low = rng.choice(grade_choices[:-1] if len(grade_choices) > 1 else grade_choices,
                     size=n_classes)
    single = rng.choice(grade_choices, size=n_classes)
    lowest = np.where(combined, low, single)
    highest = np.where(combined & (len(grade_choices) > 1), lowest + 1, lowest)

    duo = rng.random(n_classes) < design.duo_class_share
    n_teachers = n_classes + int(duo.sum())
    teacher_girl = rng.random(n_teachers) < 0.85
    teacher_years = rng.integers(1, 36, size=n_teachers)

    # students: initial roster plus joiners who replace leavers from wave 2 on
    mobility = design.leave_rate_per_wave * (design.waves - 1)
    n_initial = round(n_students / (1.0 + mobility))
    n_joiners = n_students - n_initial
    class_ids = np.arange(1, n_classes + 1)
    sizes = _allocate(n_initial, n_classes, 5, rng, spread=design.class_size_shape)
    student_class = np.repeat(class_ids, sizes)
    join_class = rng.choice(class_ids, size=n_joiners, p=sizes / sizes.sum())
    student_class = np.concatenate([student_class, join_class])
    join_wave = np.concatenate([np.ones(n_initial, dtype=int),
                                rng.integers(2, design.waves + 1, size=n_joiners)
                                if design.waves > 1 else np.ones(n_joiners, dtype=int)])
    leave_wave = np.full(n_students, design.waves + 1)
    # as many leave as join: pick leavers among the initial students
    if n_joiners:
        leavers = rng.choice(n_initial, size=n_joiners, replace=False)
        leave_wave[leavers] = join_wave[n_initial:]
    grade_low = lowest[student_class - 1]
    grade = grade_low + (rng.random(n_students) < 0.5) * (highest[student_class - 1] - grade_low)

    school_of_student = class_school[student_class - 1]
    groups, origin = _draw_origins(truth, school_of_student, n_schools, rng)
    origin_names = groups[origin]
    low_ses_share = np.array([truth.low_ses_share[name] for name in groups.tolist()])
    low_ses = rng.random(n_students) < low_ses_share[origin]
    boy = rng.random(n_students) < truth.boy_share
    countries = _draw_countries(origin_names, rng)
    education = _draw_education(low_ses, rng)
    age = grade + 3  # groep 6 pupils are about 9 years old at the start of the year
    birth_year = design.school_year - age - (rng.random(n_students) < 0.3)
    # one row per student and wave from joining up to leaving (or the last wave), in order
    first = np.asarray(join_wave, dtype=np.int64)
    spells = np.clip(np.minimum(np.asarray(leave_wave, dtype=np.int64), design.waves + 1)
                     - first, 0, None)
    who = np.repeat(np.arange(n_students), spells)
    wave = first[who] + (np.arange(who.size) - np.repeat(np.cumsum(spells) - spells, spells))
    return DrawnPeople(
        class_school=class_school, lowest_grade=lowest, highest_grade=highest, duo=duo,
        teacher_girl=teacher_girl, teacher_years=teacher_years, student_class=student_class,
        origin_groups=groups, student_origin_group=origin, student_origin=origin_names,
        student_low_ses=low_ses, student_boy=boy, birth_year=birth_year, countries=countries,
        education=education, enrolment_student=who + 1,
        enrolment_class=np.asarray(student_class, dtype=np.int64)[who],
        enrolment_wave=wave, enrolment_grade=np.asarray(grade, dtype=np.int64)[who])


def draw_population(design: ReplicaDesign, truth: ReplicaTruth,
                    rng: np.random.Generator) -> Population:
    """Draw schools, classes, teachers, students with raw backgrounds, and enrolments per wave."""
    return population_tables(draw_people(design, truth, rng))


def population_tables(people: DrawnPeople) -> Population:
    """The tables of :func:`draw_people`'s people (schools, classes, teachers, ...)."""
    n_schools, n_classes = people.n_schools, people.n_classes
    n_teachers, n_students = people.n_teachers, people.n_students
    schools = pd.DataFrame({
        "id": np.arange(1, n_schools + 1),
        "code": [f"S{i:03d}" for i in range(1, n_schools + 1)],
        "country": "NL",
    })
    classrooms = pd.DataFrame({
        "id": np.arange(1, n_classes + 1), "school_id": people.class_school,
        "code": [f"C{i:03d}" for i in range(1, n_classes + 1)],
        "lowest_grade": people.lowest_grade, "highest_grade": people.highest_grade,
    })
    teachers = pd.DataFrame({
        "id": np.arange(1, n_teachers + 1),
        "code": [f"T{i:04d}" for i in range(1, n_teachers + 1)],
        "gender": np.where(people.teacher_girl, "girl", "boy"),
        "years_experience": people.teacher_years,
    })
    teachers["gender"] = teachers["gender"].map({"girl": "girl", "boy": "boy"})
    partner_ids = n_classes + np.arange(1, int(people.duo.sum()) + 1)
    classroom_teachers = pd.concat([
        pd.DataFrame({"classroom_id": classrooms["id"], "teacher_id": classrooms["id"],
                      "primary": True}),
        pd.DataFrame({"classroom_id": classrooms["id"].to_numpy()[people.duo],
                      "teacher_id": partner_ids, "primary": False}),
    ], ignore_index=True)
    countries, (mother_edu, father_edu) = people.countries, people.education
    students = pd.DataFrame({
        "id": np.arange(1, n_students + 1),
        "code": [f"P{i:06d}" for i in range(1, n_students + 1)],
        "gender": np.where(people.student_boy, "boy", "girl"),
        "birth_year": people.birth_year,
        "birth_country": countries[0],
        "mother_birth_country": countries[1],
        "father_birth_country": countries[2],
        "mother_education": mother_edu,
        "father_education": father_edu,
    })
    enrolments = pd.DataFrame({
        "student_id": people.enrolment_student,
        "classroom_id": people.enrolment_class,
        "wave_id": people.enrolment_wave,
        "grade": people.enrolment_grade,
    })
    enrolments.insert(0, "id", np.arange(1, len(enrolments) + 1))
    return Population(schools, classrooms, teachers, classroom_teachers, students, enrolments,
                      people.student_origin, people.student_low_ses, people.student_boy)


def _draw_origins(truth: ReplicaTruth, school_of_student: np.ndarray, n_schools: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The origin groups' names, and each student's group (a position in the names).

    Schools differ in their shares of Dutch, western and non-western students (a Dirichlet mix
    around ``origin_shares`` with concentration ``school_segregation``); a non-western student's
    group (Turkish, Moroccan, Surinamese, ...) is drawn from the non-western groups' overall
    shares, so the mix of non-western groups varies between replicas only by sampling.
    """
    broad = ("dutch", "western", "non_western")
    non_western = [o for o in ORIGINS if o not in broad[:2]]
    shares = np.array([truth.origin_shares["dutch"], truth.origin_shares["western"],
                       sum(truth.origin_shares[o] for o in non_western)])
    school_mix = rng.dirichlet(truth.school_segregation * shares, size=n_schools)
    cumulative = school_mix.cumsum(axis=1)[school_of_student - 1]
    group = (rng.random(len(school_of_student))[:, None] > cumulative).sum(axis=1).clip(0, 2)
    within = np.array([truth.origin_shares[o] for o in non_western])
    subgroup = rng.choice(len(non_western), size=len(group), p=within / within.sum())
    names = np.array(["dutch", "western", *non_western])
    return names, np.where(group < 2, np.minimum(group, 1), 2 + subgroup)


def _draw_countries(origin: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Countries of birth of student, mother and father that the CBS rules classify as ``origin``.

    Second generation: the student is born in the Netherlands; the mother is born in the origin
    country, or (30 %) she is Dutch-born and the father is. First generation (25 % of migrants):
    the student is born in the origin country too. 3 % of Dutch students are born abroad to
    Dutch-born parents (still of Dutch background).
    """
    n = len(origin)
    student = np.full(n, "NL", dtype=object)
    mother = np.full(n, "NL", dtype=object)
    father = np.full(n, "NL", dtype=object)
    dutch = origin == "dutch"
    abroad_dutch = dutch & (rng.random(n) < 0.03)
    student[abroad_dutch] = rng.choice(["BE", "DE", "ES", "GB"], size=int(abroad_dutch.sum()))
    for name, options in ORIGIN_COUNTRIES.items():
        members = np.flatnonzero(origin == name)
        if not len(members):
            continue
        country = rng.choice(options, size=len(members))
        first_generation = rng.random(len(members)) < 0.25
        father_only = ~first_generation & (rng.random(len(members)) < 0.3)
        both = rng.random(len(members)) < 0.6
        mother[members] = np.where(father_only, "NL", country)
        father[members] = np.where(father_only | both, country, "NL")
        student[members] = np.where(first_generation, country, "NL")
    return student, mother, father


def _draw_education(low_ses: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Parents' education consistent with the pupil-weight rule's verdict ``low_ses``.

    Low SES (weight 0.3 or 1.2): both parents at most prevocational-basic. Otherwise at least one
    parent has a higher level.
    """
    n = len(low_ses)
    levels = np.array(EDUCATION_LEVELS, dtype=object)
    mother = levels[rng.choice(5, size=n, p=_EDUCATION_P)]
    father = levels[rng.choice(5, size=n, p=_EDUCATION_P)]
    low_levels = levels[:2]
    mother = np.where(low_ses, low_levels[rng.integers(0, 2, size=n)], mother)
    father = np.where(low_ses, low_levels[rng.integers(0, 2, size=n)], father)
    both_low = np.isin(mother, low_levels) & np.isin(father, low_levels) & ~low_ses
    mother = np.where(both_low, "upper_secondary", mother)
    return mother, father
