"""Point 6: production refuses development office keys and placeholder secrets; /metrics needs its token;
the API description is not served."""

from __future__ import annotations

import secrets

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.bootstrap import bootstrap
from bot.tips.keys import DevelopmentKeysInProduction, store_key
from bot.tips.sealing import TEST_MEMLIMIT, TEST_OPSLIMIT, generate_office_key
from tests.conftest import make_settings, real_content
from webhook.app import create_app

STRONG = secrets.token_urlsafe(48)


def prod_args(tmp_path) -> dict:  # type: ignore[no-untyped-def]
    return {"environment": "production", "secret_key": STRONG, "content_dir": real_content(tmp_path)}


@pytest.mark.parametrize("secret", [
    "CHANGE_ME" + "0123456789abcdefghijklmnopqrstuvwxyz",  # long, varied, but a placeholder
    "z" * 64,                                                # one repeated character
    "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcd",              # long and low in entropy
    "dev-only-secret-change-me-in-production",               # the development default
])
def test_placeholder_secrets_are_refused_in_production(tmp_path, sqlite_url, secret):
    with pytest.raises(ValidationError, match="FUNDGUARD_SECRET_KEY is refused"):
        make_settings(tmp_path, sqlite_url, environment="production", secret_key=secret,
                      content_dir=real_content(tmp_path))
    make_settings(tmp_path, sqlite_url, environment="test", secret_key=secret)  # only production is strict


def test_a_weak_metrics_token_is_refused_and_a_random_secret_accepted(tmp_path, sqlite_url):
    with pytest.raises(ValidationError, match="FUNDGUARD_METRICS_TOKEN"):
        make_settings(tmp_path, sqlite_url, metrics_token="a" * 20, **prod_args(tmp_path))
    assert make_settings(tmp_path, sqlite_url, **prod_args(tmp_path)).secret_key == STRONG


def test_production_refuses_to_start_with_a_development_office_key(tmp_path, sqlite_url, embedded_nlu, caplog):
    dev = make_settings(tmp_path, sqlite_url)  # a development run made development keys in this database
    bootstrap(dev, embedded=embedded_nlu).db.dispose()
    prod = make_settings(tmp_path, sqlite_url, **prod_args(tmp_path))
    with pytest.raises(DevelopmentKeysInProduction, match="fundguard office keygen"):
        bootstrap(prod, embedded=embedded_nlu)
    office_only = bootstrap(prod, with_engine=False)  # the office commands still run, to replace the keys
    with office_only.uow() as uow:
        for office in [office_only.offices.city, *office_only.offices.counties]:
            key = generate_office_key("a real passphrase!", opslimit=TEST_OPSLIMIT, memlimit=TEST_MEMLIMIT)
            store_key(uow.session, office.code, key, development=False)
        uow.commit()
    office_only.db.dispose()
    bootstrap(prod, embedded=embedded_nlu).db.dispose()  # real keys everywhere: it starts


def test_metrics_and_api_docs_in_production(tmp_path, sqlite_url, embedded_nlu):
    svc = bootstrap(make_settings(tmp_path, sqlite_url), embedded=embedded_nlu)  # keys made, then replaced
    with svc.uow() as uow:
        for office in [svc.offices.city, *svc.offices.counties]:
            key = generate_office_key("a real passphrase!", opslimit=TEST_OPSLIMIT, memlimit=TEST_MEMLIMIT)
            store_key(uow.session, office.code, key, development=False)
        uow.commit()
    svc.db.dispose()
    prod = bootstrap(make_settings(tmp_path, sqlite_url, **prod_args(tmp_path)),
                     embedded=embedded_nlu)
    with TestClient(create_app(services=prod)) as client:
        assert client.get("/metrics").status_code == 404
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").status_code == 200
    token = secrets.token_urlsafe(24)
    prod.settings.metrics_token = token
    with TestClient(create_app(services=prod)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    prod.db.dispose()
    dev = bootstrap(make_settings(tmp_path, sqlite_url), embedded=embedded_nlu)
    with TestClient(create_app(services=dev)) as client:  # development keeps the API description
        assert client.get("/openapi.json").status_code == 200 and client.get("/metrics").status_code == 200
    dev.db.dispose()
