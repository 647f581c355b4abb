import pytest

from papers.importing import services as importing
from tests.factories import make_paper, make_person, make_user


@pytest.fixture
def person_page():
    """An unverified page with three papers: (person, its three authorships)."""
    person = make_person(first="Peiyu", last="Liu")
    papers = [make_paper(title=f"Paper {i}", authors=(person,)) for i in range(3)]
    return person, [p.authorships.get() for p in papers]


@pytest.fixture
def folder(data_copy):
    """A writable copy of the fixture data folder, imported into the database."""

    importing.anthology_import(path=data_copy)
    return data_copy


@pytest.fixture
def reviewer():
    return make_user(username="rita", roles=("reviewer",))


@pytest.fixture
def maintainer():
    return make_user(username="boss", roles=("maintainer",))
