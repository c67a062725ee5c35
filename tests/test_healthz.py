def test_healthz_answers_ok_without_the_database(client):
    # No django_db mark: any query would raise, so a database outage cannot fail this check.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
