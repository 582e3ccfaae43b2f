"""``/v1/files`` through the real ``openai`` SDK: upload, list with paging, retrieve, content and
delete per tenant (another tenant's file is a 404 on every route), the size cap and quotas, type
checks, and two replicas sharing files on PostgreSQL."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-files"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def sdk(gw: Proc, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=20)


def tenant_key(gw: Proc, tenant: str) -> str:
    h = {"authorization": f"Bearer {ADMIN}"}
    if call("GET", f"{gw.base_url}/admin/tenants/{tenant}", headers=h).status == 404:
        assert call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, h).status == 201
    reply = call("POST", f"{gw.base_url}/admin/tenants/{tenant}/keys", {"name": "k"}, h)
    assert reply.status == 201, reply.body
    return str(reply.json()["key"])


def config(**files: Any) -> dict[str, Any]:
    return {**sim_config(), "admin": {"keys": [{"key": ADMIN, "name": "ops"}]}, "files": files}


def error(e: openai.APIStatusError) -> dict[str, Any]:
    body = e.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


@pytest.fixture
def gw(gateway) -> Proc:
    return gateway(config(max_file_bytes=4096, max_tenant_files=6, max_tenant_bytes=9000))


def test_round_trip_paging_and_isolation(gw: Proc) -> None:
    acme, globex = tenant_key(gw, "acme"), tenant_key(gw, "globex")
    with sdk(gw, acme) as c:
        made = [
            c.files.create(
                file=(f"notes-{i}.md", f"# Note {i}\n".encode(), "text/markdown"), purpose="assistants"
            )
            for i in range(4)
        ]
        pdf = c.files.create(file=("report.pdf", PDF, "application/pdf"), purpose="user_data")
        batch = c.files.create(
            file=("in.jsonl", b'{"a": 1}\n\n{"b": [2]}\n', "application/jsonl"), purpose="batch"
        )
        f = made[0]
        assert f.id.startswith("file-") and f.object == "file" and f.bytes == len(b"# Note 0\n")
        assert (f.filename, f.purpose, f.status, f.expires_at) == (
            "notes-0.md",
            "assistants",
            "processed",
            None,
        )
        assert c.files.retrieve(f.id) == f

        everything = [*made, pdf, batch]
        page = c.files.list(limit=2)
        assert page.has_more is True and len(page.data) == 2
        assert [x.id for x in c.files.list(limit=2)] == [x.id for x in c.files.list(order="desc")]
        listed = [x.id for x in c.files.list(limit=2, order="asc")]  # auto-paging follows `after`
        assert sorted(listed) == sorted(x.id for x in everything) and len(listed) == 6
        assert [x.id for x in c.files.list(purpose="batch")] == [batch.id]
        raw = c.files.with_raw_response.list(limit=3, order="asc").http_response.json()
        assert raw["object"] == "list" and raw["has_more"] is True
        assert (raw["first_id"], raw["last_id"]) == (raw["data"][0]["id"], raw["data"][2]["id"])

        got = c.files.content(pdf.id)
        assert got.content == PDF
        assert got.response.headers["content-type"] == "application/pdf"
        assert got.response.headers["x-content-type-options"] == "nosniff"
        assert got.response.headers["content-security-policy"] == "sandbox"
        assert got.response.headers["content-disposition"] == "attachment; filename*=UTF-8''report.pdf"
        md = c.files.content(f.id)
        assert md.text == "# Note 0\n" and md.response.headers["content-type"].startswith("text/markdown")

    # Another tenant and a static key of the config: every route is the same 404 as a missing id.
    for key in (globex, DEMO_KEY):
        with sdk(gw, key) as c:
            assert list(c.files.list()) == []
            for fid in (f.id, "file-missing"):
                for op in (c.files.retrieve, c.files.content, c.files.delete):
                    with pytest.raises(openai.NotFoundError) as e:
                        op(fid)
                    assert error(e.value) == {
                        "message": f"No such File object: {fid}",
                        "type": "invalid_request_error",
                        "param": "file_id",
                        "code": "file_not_found",
                    }
            with pytest.raises(openai.BadRequestError) as e:
                c.files.list(after=f.id)
            assert error(e.value)["param"] == "after"

    with sdk(gw, acme) as c:
        assert c.files.retrieve(f.id) == f  # untouched by the others' deletes
        deleted = c.files.delete(f.id)
        assert (deleted.id, deleted.object, deleted.deleted) == (f.id, "file", True)
        with pytest.raises(openai.NotFoundError):
            c.files.content(f.id)
        assert len(list(c.files.list())) == 5


def test_size_cap_is_a_413_naming_file(gw: Proc) -> None:
    with sdk(gw, DEMO_KEY) as c:
        assert c.files.create(file=("max.txt", b"x" * 4096), purpose="assistants").bytes == 4096
        with pytest.raises(openai.APIStatusError) as e:
            c.files.create(file=("big.txt", b"x" * 4097), purpose="assistants")
        assert e.value.status_code == 413
        assert error(e.value)["param"] == "file" and error(e.value)["code"] == "file_too_large"
        # Far past the cap: refused from Content-Length, before the body is read.
        with pytest.raises(openai.APIStatusError) as e:
            c.files.create(file=("huge.txt", b"x" * (4 * 1024 * 1024)), purpose="assistants")
        assert e.value.status_code == 413
        assert [x.filename for x in c.files.list()] == ["max.txt"]


def test_quotas_per_tenant(gw: Proc) -> None:
    acme, globex = tenant_key(gw, "acme"), tenant_key(gw, "globex")
    with sdk(gw, acme) as c:
        two = [c.files.create(file=(f"{i}.txt", b"y" * 4000), purpose="assistants") for i in range(2)]
        with pytest.raises(openai.APIStatusError) as e:  # 8000 + 4000 > 9000 bytes
            c.files.create(file=("third.txt", b"y" * 4000), purpose="assistants")
        assert e.value.status_code == 413
        body = error(e.value)
        assert body["param"] == "file" and body["code"] == "file_quota_exceeded" and "9000" in body["message"]
        small = [c.files.create(file=(f"s{i}.txt", b"z"), purpose="assistants") for i in range(4)]
        with pytest.raises(openai.RateLimitError) as e:  # a 7th file
            c.files.create(file=("seventh.txt", b"z"), purpose="assistants")
        body = error(e.value)
        assert (body["type"], body["code"]) == ("insufficient_quota", "file_quota_exceeded")
        assert "6" in body["message"]
        assert len(list(c.files.list())) == 6
        c.files.delete(two[0].id)
        c.files.delete(small[0].id)
        c.files.create(file=("again.txt", b"y" * 4000), purpose="assistants")  # room again
    with sdk(gw, globex) as c:  # quotas are per tenant
        c.files.create(file=("g.txt", b"y" * 4000), purpose="assistants")


@pytest.mark.parametrize(
    ("name", "content", "purpose", "param", "says"),
    [
        ("a.txt", b"hi", "fine-tuning", "purpose", "one of assistants, batch"),
        ("a.txt", b"hi", "batch_output", "purpose", "one of"),
        ("in.jsonl", b'{"a": 1}\n{"b": \n', "batch", "file", "line 2 is not valid JSON"),
        ("in.txt", b'{"a": 1}\n', "batch", "file", "accepts .jsonl"),
        ("in.jsonl", b"\n\n", "batch", "file", "no JSON lines"),
        ("r.pdf", b"not a pdf", "assistants", "file", "not a PDF"),
        ("w.docx", b"plain text", "user_data", "file", "not a DOCX"),
        ("a.exe", b"MZ\x90\x00", "assistants", "file", "accepts .txt, .md"),
        ("a.txt", b"\xff\xfe\x00b", "assistants", "file", "not UTF-8 text"),
        ("d.json", b'{"a": ', "assistants", "file", "not valid JSON"),
        ("p.png", b"GIF89a....", "vision", "file", "not a PNG image; purpose 'vision' accepts .png"),
    ],
)
def test_bad_upload_is_a_400_naming_the_param(
    gw: Proc, name: str, content: bytes, purpose: str, param: str, says: str
) -> None:
    with sdk(gw, DEMO_KEY) as c:
        with pytest.raises(openai.BadRequestError) as e:
            c.files.create(file=(name, content), purpose=purpose)  # type: ignore[arg-type]
        body = error(e.value)
        assert body["param"] == param and says in body["message"], body
        assert list(c.files.list()) == []


def test_accepted_kinds(gw: Proc) -> None:
    docx = b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml" + b"\x00" * 40
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    with sdk(gw, DEMO_KEY) as c:
        for name, content, purpose in [
            ("a.html", b"<p>hi</p>", "assistants"),
            ("a.json", b'{"k": [1, 2]}', "user_data"),
            ("a.docx", docx, "assistants"),
            ("a.png", png, "vision"),
            ("train.jsonl", b'{"messages": []}\r\n', "fine-tune"),
        ]:
            assert c.files.create(file=(name, content), purpose=purpose).filename == name  # type: ignore[arg-type]
        got = c.files.content(c.files.list(purpose="vision").data[0].id)
        assert got.content == png and got.response.headers["content-type"] == "image/png"


def test_malformed_forms_are_400s(gw: Proc) -> None:
    h = {"authorization": f"Bearer {DEMO_KEY}"}
    url = gw.base_url + "/v1/files"
    reply = call("POST", url, {"purpose": "assistants"}, h)  # JSON, not a form
    assert reply.status == 400 and reply.json()["error"]["param"] == "file"
    form = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--b--\r\n'
    reply = call("POST", url, form, {**h, "content-type": "multipart/form-data; boundary=b"})
    assert reply.status == 400 and reply.json()["error"]["param"] == "file"
    cut = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhal'
    reply = call("POST", url, cut, {**h, "content-type": "multipart/form-data; boundary=b"})
    assert reply.status == 400 and reply.json()["error"]["param"] == "file"
    assert call("POST", url, form, {"content-type": "multipart/form-data; boundary=b"}).status == 401


def test_two_replicas_share_files_on_postgres(gateway, postgres_clean: str, redis_clean: str) -> None:
    cfg = config()
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    a, b = gateway(cfg), gateway(cfg)
    acme, globex = tenant_key(a, "acme"), tenant_key(a, "globex")
    content = ("line of text é\n" * 120_000).encode()  # ~2 MiB: stored and served in parts
    with sdk(a, acme) as c:
        f = c.files.create(file=("big.txt", content), purpose="assistants")
    with sdk(b, acme) as c:
        assert c.files.retrieve(f.id) == f
        assert c.files.content(f.id).content == content
        assert [x.id for x in c.files.list()] == [f.id]
    with sdk(b, globex) as c:
        with pytest.raises(openai.NotFoundError):
            c.files.content(f.id)
        with pytest.raises(openai.NotFoundError):
            c.files.delete(f.id)
    with sdk(b, acme) as c:
        assert c.files.delete(f.id).deleted is True
    with sdk(a, acme) as c:
        with pytest.raises(openai.NotFoundError):
            c.files.retrieve(f.id)
