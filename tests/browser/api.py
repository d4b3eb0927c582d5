"""The service's HTTP API as the browser tests and the soak call it (setup and verification)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.server import Credentials, Login


class ApiFailure(AssertionError):
    """An error answer; an AssertionError so a test that meets one fails with the answer shown."""

    def __init__(self, response: httpx.Response):
        self.status_code = response.status_code
        super().__init__(f"{response.request.method} {response.request.url} → {response.status_code}: {response.text}")


class ServiceApi:
    """A synchronous client; user tokens are kept, since logins are rate-limited per user."""

    def __init__(self, base_url: str, credentials: Credentials, timeout: float = 15.0):
        self.credentials = credentials
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=timeout)
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def _check(self, answer: httpx.Response) -> Any:
        if answer.is_error:
            raise ApiFailure(answer)
        return answer.json()

    def token(self, login: Login) -> str:
        if login.username not in self._tokens:
            answer = self.http.post("/auth/token", data={"username": login.username, "password": login.password})
            self._tokens[login.username] = self._check(answer)["access_token"]
        return self._tokens[login.username]

    def _as(self, login: Login) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(login)}"}

    def _operator(self) -> dict[str, str]:
        return self._as(self.credentials.operator)

    def push(self, source: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST records with the department's key; every one must be accepted."""
        key = {"police": self.credentials.police_key, "city": self.credentials.city_key}[source]
        answer = self.http.post(f"/feeds/{source}/records", json=records, headers={"Authorization": f"Bearer {key}"})
        results: list[dict[str, Any]] = self._check(answer)["results"]
        rejected = [r for r in results if r["status"] == "rejected"]
        assert not rejected, f"records rejected: {rejected}"
        return results

    def upload(self, source: str, filename: str, data: bytes) -> list[dict[str, Any]]:
        """POST an export file as the operator (operators may upload for any source); every row must be taken."""
        answer = self.http.post(f"/feeds/{source}/files", files={"file": (filename, data)}, headers=self._operator())
        results: list[dict[str, Any]] = self._check(answer)["results"]
        rejected = [r for r in results if r["status"] == "rejected"]
        assert not rejected, f"rows rejected: {rejected}"
        return results

    def push_one(self, source: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.push(source, [record])[0]

    def incident(self, incident_id: int) -> dict[str, Any]:
        return dict(self._check(self.http.get(f"/incidents/{incident_id}", headers=self._operator())))

    def records(self, **filters: str | int | bool) -> list[dict[str, Any]]:
        answer = self.http.get("/records", params=filters, headers=self._operator())
        return list(self._check(answer)["items"])

    def record(self, source: str, source_record_id: str) -> dict[str, Any]:
        (found,) = self.records(source=source, source_record_id=source_record_id)
        return found

    def assign(self, incident_id: int, assignee: str, expected_version: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"assignee": assignee}
        if expected_version is not None:
            body["expected_version"] = expected_version
        answer = self.http.post(f"/incidents/{incident_id}/assign", json=body, headers=self._operator())
        return dict(self._check(answer))

    def set_status(
        self, incident_id: int, status: str, expected_version: int, note: str | None = None
    ) -> dict[str, Any]:
        body = {"status": status, "expected_version": expected_version, "note": note}
        answer = self.http.post(f"/incidents/{incident_id}/status", json=body, headers=self._operator())
        return dict(self._check(answer))

    def events_after(self, seq: int, limit: int = 1000) -> dict[str, Any]:
        """The ledger after seq (`epoch`, `head_seq`, `events`), read with the display key."""
        headers = {"Authorization": f"Bearer {self.credentials.display_key}"}
        answer = self.http.get("/events", params={"since": seq, "limit": limit}, headers=headers)
        return dict(self._check(answer))
