"""Deployment defaults: login throttling (django-axes), the client's address behind a proxy, and
HEAD answered wherever GET is."""

import pytest
from django.test import RequestFactory

from anthology_review.client_ip import client_ip
from tests.factories import PASSWORD, make_changeset, make_paper, make_person, make_user


def login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_twelve_wrong_passwords_then_the_right_one_is_refused(client):
    make_user(username="rita")
    for _ in range(12):
        response = login(client, "rita", "wrong password")
        assert not logged_in(client)
    response = login(client, "rita", PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    assert "Too many failed logins" in response.content.decode()
    assert "rita" in response.content.decode()


@pytest.mark.django_db
def test_lockout_is_per_user_and_address(client, settings):
    make_user(username="rita")
    make_user(username="boss")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "rita", "wrong password", address="198.51.100.7")
    assert login(client, "rita", PASSWORD, address="198.51.100.7").status_code == 429
    # The same user from elsewhere, and another user from that address, still get in.
    assert login(client, "rita", PASSWORD, address="203.0.113.5").status_code == 302
    assert logged_in(client)
    client.logout()
    assert login(client, "boss", PASSWORD, address="198.51.100.7").status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_a_few_wrong_passwords_then_the_right_one_gets_in_and_resets_the_count(client, settings):
    make_user(username="rita")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rita", "wrong password")
    assert login(client, "rita", PASSWORD).status_code == 302
    client.logout()
    # The success reset the count: as many failures again do not lock the user out.
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "rita", "wrong password")
    assert login(client, "rita", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy: the header is the client's, ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged first entry is not believed
        (2, "203.0.113.9, 198.51.100.1", "203.0.113.9"),
        (1, "", "192.0.2.1"),
    ],
)
def test_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("/", None),
        ("/mixed/", None),
        ("/search/?q=liu", None),
        ("/people/{person}/", None),
        ("/people/{person}/suggestion/", None),
        ("/changeset/", "reviewer"),
        ("/changeset/propose-id/?first=Ada&last=Lovelace", "reviewer"),
        ("/review/", "maintainer"),
        ("/review/{changeset}/", "maintainer"),
        ("/imports/", "maintainer"),
        ("/imports/new/", "admin"),
    ],
)
def test_head_is_answered_wherever_get_is(client, url, role, fake_clustering):
    person = make_person(first="Peiyu", last="Liu")
    make_paper(authors=(person,))
    changeset = make_changeset()
    if role:
        client.force_login(make_user(roles=(role,)))
    url = url.format(person=person.pk, changeset=changeset.pk)
    get = client.get(url)
    assert get.status_code == 200
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
