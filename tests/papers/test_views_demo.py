import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from assignments.management.commands.demo import DEMO_ACCOUNTS
from papers.models import Paper, Person

pytestmark = pytest.mark.django_db


def test_demo_imports_fixtures_and_creates_role_accounts(fixture_data_dir):
    out = io.StringIO()
    call_command("demo", "--no-serve", "--data", str(fixture_data_dir), stdout=out)
    assert Paper.objects.exists()
    assert Person.objects.filter(pk="peiyu-liu/unverified").exists()
    for role, (username, password) in DEMO_ACCOUNTS.items():
        # with the request, as a login has it: the login throttling (django-axes) needs it
        login = RequestFactory().post("/login/")
        user = authenticate(login, username=username, password=password)
        assert user is not None
        assert user.groups.filter(name=role).exists()
        assert f"user {username!r}" in out.getvalue()
    # a second run keeps the data and the accounts
    papers = Paper.objects.count()
    call_command("demo", "--no-serve", "--data", str(fixture_data_dir), stdout=io.StringIO())
    assert Paper.objects.count() == papers
