"""The factory as an AAS V3.0 environment (CONTRACT §10), read back by the Eclipse BaSyx SDK's strict
deserialiser: export, import, the round trip into an empty factory, roles and bad files."""
import io
import json

import pytest
from basyx.aas import model
from basyx.aas.adapter import json as aas_json
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration.models import AuditEntry
from tests.builders import make_asset_type, make_factory, make_layout
from twins.models import Asset, AssetType, Role, Twin
from twins.services.telemetry import telemetry_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant(people, twins):
    """`plant` with a press type in the catalogue, cnc-1 placed in the baseline layout, and live values."""
    factory = people["plant"]
    press = make_asset_type("machine", name="Hydraulic Press 400 t", defaults={"cycle_time_s": 42.0, "mix": {"A": 1.0}, "capacity": 2})
    layout = make_layout(factory=factory, assets=1)
    Asset.objects.filter(layout=layout).update(asset_type=press, twin_key="cnc-1", params={"cycle_time_s": 40.0})
    factory.baseline_layout = layout
    factory.save()
    telemetry_ingest(factory=factory, points=[{"twin": "cnc-1", "values": {"temperature": 71.5, "status": "running", "monitoring/spindle.rpm": 1200}}])
    return factory


def export(client, factory) -> dict:
    response = client.get(f"/api/factories/{factory.id}/aas/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def strict(document: dict) -> model.DictIdentifiableStore:
    return aas_json.read_aas_json_file(io.StringIO(json.dumps(document)), failsafe=False)


def test_a_viewer_exports_one_shell_per_twin_and_per_asset_type_that_the_sdk_reads_back(plant, people, client_for):
    response = client_for(people["victor"]).get(f"/api/factories/{plant.id}/aas/")
    assert response["Content-Disposition"] == 'attachment; filename="plant.aas.json"'
    store = strict(json.loads(response.content))
    shells = {s.id: s for s in store if isinstance(s, model.AssetAdministrationShell)}
    twin_shells = {s.asset_information.specific_asset_id[0].value for s in shells.values() if s.asset_information.asset_kind == model.AssetKind.INSTANCE}
    type_shells = {s.asset_information.specific_asset_id[0].value for s in shells.values() if s.asset_information.asset_kind == model.AssetKind.TYPE}
    assert twin_shells == {"cnc-1", "press-1"}  # not the other factory's cnc-1
    assert type_shells == set(AssetType.objects.values_list("name", flat=True))

    cnc = shells["urn:metaverse:aas:twin:cnc-1"]
    submodels = {ref.resolve(store).id_short: ref.resolve(store) for ref in cnc.submodel}
    assert set(submodels) == {"Nameplate", "TechnicalData", "OperationalData"}
    assert submodels["Nameplate"].get_referable("ManufacturerProductDesignation").value == {"en": "CNC-1"}
    operational = submodels["OperationalData"]
    assert operational.get_referable("status").value == "running"
    values = {e.display_name["en"]: e.value for e in operational.get_referable("Values").value}
    assert values == {"temperature": 71.5, "status": "running", "monitoring/spindle.rpm": 1200.0}
    technical = submodels["TechnicalData"]
    assert technical.get_referable("AssetType").value.key[0].value == "urn:metaverse:aas:asset-type:Hydraulic%20Press%20400%20t"
    params = {e.id_short: e.value for e in technical.get_referable("Params").value}
    assert params["cycle_time_s"] == 40.0 and params["capacity"] == 2  # the station's own value over the type's default

    press = shells["urn:metaverse:aas:asset-type:Hydraulic%20Press%20400%20t"]
    technical = next(ref.resolve(store) for ref in press.submodel if ref.resolve(store).id_short == "TechnicalData")
    assert {e.id_short: e.value for e in technical.get_referable("TechnicalProperties").value}["kind"] == "machine"


def test_export_import_into_an_empty_factory_export_gives_the_same_shells_and_a_second_import_changes_nothing(plant, people, client_for):
    owner = client_for(people["olivia"])
    first = export(owner, plant)
    empty = make_factory(name="Empty", slug="empty", members={people["olivia"]: Role.OWNER})

    response = owner.post(f"/api/factories/{empty.id}/aas/", first, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"twins": {"created": ["cnc-1", "press-1"], "existing": []},
                               "asset_types": {"created": [], "updated": [], "unchanged": sorted(AssetType.objects.values_list("name", flat=True))}}
    assert dict(Twin.objects.filter(factory=empty).values_list("key", "name")) == {"cnc-1": "CNC-1", "press-1": "Press-1"}
    assert AuditEntry.objects.filter(factory_id=empty.id, action="twin.create").count() == 2

    second = export(owner, empty)
    assert second["assetAdministrationShells"] == first["assetAdministrationShells"]
    nameplates = [[s for s in doc["submodels"] if s["idShort"] == "Nameplate"] for doc in (first, second)]
    assert nameplates[0] == nameplates[1]
    type_submodels = [[s for s in doc["submodels"] if ":asset-type:" in s["id"]] for doc in (first, second)]
    assert type_submodels[0] == type_submodels[1]

    audit = AuditEntry.objects.count()
    again = owner.post(f"/api/factories/{empty.id}/aas/", second, format="json")
    assert again.json()["twins"] == {"created": [], "existing": ["cnc-1", "press-1"]}
    assert AuditEntry.objects.count() == audit


def test_a_vendors_file_made_with_the_sdk_brings_its_machine_in(people, client_for):
    nameplate = model.Submodel("https://vendor.example/sm/4711/nameplate", id_short="Nameplate",
                               semantic_id=model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, "https://admin-shell.io/zvei/nameplate/2/0/Nameplate"),)),
                               submodel_element=[model.MultiLanguageProperty("ManufacturerProductDesignation", value=model.MultiLanguageTextType({"de": "Fräszentrum DMU 50"}))])
    shell = model.AssetAdministrationShell(model.AssetInformation(model.AssetKind.INSTANCE, global_asset_id="https://vendor.example/assets/4711"),
                                           "https://vendor.example/aas/4711", id_short="Mill_4711", submodel={model.ModelReference.from_referable(nameplate)})
    document = json.loads(aas_json.object_store_to_json(model.DictIdentifiableStore([shell, nameplate])))
    upload = SimpleUploadedFile("mill.aas.json", json.dumps(document).encode(), content_type="application/json")
    response = client_for(people["olivia"]).post(f"/api/factories/{people['plant'].id}/aas/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert Twin.objects.get(factory=people["plant"], key="Mill_4711").name == "Fräszentrum DMU 50"


def test_only_the_owner_imports_viewers_export_and_non_members_get_404(plant, people, client_for):
    url = f"/api/factories/{plant.id}/aas/"
    document = export(client_for(people["victor"]), plant)
    for name in ("victor", "alice", "maggie"):
        response = client_for(people[name]).post(url, document, format="json")
        assert response.status_code == 403, name
        assert "owner" in response.json()["detail"]
    assert client_for(people["mallory"]).get(url).status_code == 404
    assert client_for(people["mallory"]).post(url, document, format="json").status_code == 404
    assert client_for(None).get(url).status_code in (401, 403)
    assert client_for(people["olivia"]).get("/api/factories/999999/aas/").status_code == 404


BAD_FILES = [
    ([1, 2], "a JSON object with assetAdministrationShells"),
    ({"shells": []}, "a JSON object with assetAdministrationShells"),
    ({"assetAdministrationShells": "cnc-1"}, "assetAdministrationShells must be a list"),
    ({"assetAdministrationShells": []}, "no shell"),
    ({"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", "id": "urn:x"}]}, "assetInformation"),
    ({"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", "id": "urn:x", "assetInformation": {"assetKind": "Instance"}}]},
     "globalAssetId or a specificAssetId"),
    ({"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", "id": "urn:x", "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:a"}}]},
     "neither a twinKey specificAssetId nor an idShort"),
    ({"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", "id": "urn:x", "idShort": "x1", "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:a"},
                                     "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": "urn:missing"}]}]}]},
     "not in the file"),
]


@pytest.mark.parametrize("document, message", BAD_FILES)
def test_a_bad_file_is_a_clear_400_and_changes_nothing(plant, people, client_for, document, message):
    twins_before = Twin.objects.count()
    response = client_for(people["olivia"]).post(f"/api/factories/{plant.id}/aas/", document, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert Twin.objects.count() == twins_before


def test_a_file_that_is_not_json_or_not_utf8_is_a_400(plant, people, client_for):
    client = client_for(people["olivia"])
    for content, message in ((b"{not json", "not JSON"), (b"\xff\xfe\x00", "not UTF-8")):
        upload = SimpleUploadedFile("x.json", content, content_type="application/json")
        response = client.post(f"/api/factories/{plant.id}/aas/", {"file": upload}, format="multipart")
        assert response.status_code == 400 and message in response.json()["detail"]


def test_one_bad_shell_rejects_the_whole_file_naming_the_shell(plant, people, client_for):
    document = export(client_for(people["olivia"]), plant)
    target = make_factory(members={people["olivia"]: Role.OWNER})
    shell = next(s for s in document["assetAdministrationShells"] if s["id"] == "urn:metaverse:aas:twin:press-1")
    shell["assetInformation"]["specificAssetIds"][0]["value"] = "press 1!"
    response = client_for(people["olivia"]).post(f"/api/factories/{target.id}/aas/", document, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Shell 'urn:metaverse:aas:twin:press-1': key must be")
    assert not Twin.objects.filter(factory=target).exists()  # cnc-1 came first in the file: rolled back too


def test_a_new_or_changed_asset_type_needs_staff_and_staff_import_it(plant, people, client_for):
    document = export(client_for(people["olivia"]), plant)
    type_sm = next(s for s in document["submodels"] if s["id"] == "urn:metaverse:aas:asset-type:Hydraulic%20Press%20400%20t:technical-data")
    width = next(e for e in type_sm["submodelElements"][0]["value"] if e["idShort"] == "width_m")
    width["value"] = "3.5"
    target = make_factory(members={people["olivia"]: Role.OWNER})
    response = client_for(people["olivia"]).post(f"/api/factories/{target.id}/aas/", document, format="json")
    assert response.status_code == 403 and "Only staff can change the asset catalogue" in response.json()["detail"]
    assert not Twin.objects.filter(factory=target).exists() and AssetType.objects.get(name="Hydraulic Press 400 t").width_m == 2

    response = client_for(people["staff"]).post(f"/api/factories/{target.id}/aas/", document, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["asset_types"]["updated"] == ["Hydraulic Press 400 t"]
    press = AssetType.objects.get(name="Hydraulic Press 400 t")
    assert press.width_m == 3.5 and press.defaults == {"cycle_time_s": 42.0, "mix": {"A": 1.0}, "capacity": 2}

    document["assetAdministrationShells"] = [s for s in document["assetAdministrationShells"] if ":asset-type:" in s["id"]]
    for shell in document["assetAdministrationShells"]:
        if shell["id"].endswith("Hydraulic%20Press%20400%20t"):
            shell["assetInformation"]["specificAssetIds"][0]["value"] = "Hydraulic Press 600 t"
    response = client_for(people["staff"]).post(f"/api/factories/{target.id}/aas/", document, format="json")
    assert response.json()["asset_types"]["created"] == ["Hydraulic Press 600 t"]
    assert AssetType.objects.get(name="Hydraulic Press 600 t").width_m == 3.5


def test_what_the_sdk_or_the_catalogue_refuses_deep_inside_a_file_is_a_400_too(plant, people, client_for):
    document = export(client_for(people["staff"]), plant)
    technical = next(s for s in document["submodels"] if s["id"] == "urn:metaverse:aas:asset-type:Hydraulic%20Press%20400%20t:technical-data")
    width = next(e for e in technical["submodelElements"][0]["value"] if e["idShort"] == "width_m")
    width.update(valueType="xs:dateTime", value="2026-01-01T00:00:00Z")
    response = client_for(people["staff"]).post(f"/api/factories/{plant.id}/aas/", document, format="json")
    assert response.status_code == 400 and "'width_m' holds a datetime" in response.json()["detail"]

    width.update(valueType="xs:double", value="-4")
    response = client_for(people["staff"]).post(f"/api/factories/{plant.id}/aas/", document, format="json")
    assert response.status_code == 400 and "width_m must be at least" in response.json()["detail"]

    nested = {"idShort": "x", "modelType": "SubmodelElementCollection", "value": []}
    for _ in range(25):  # deep, within the parser's 64 levels: the SDK reads it, the import has nothing to say about it
        nested = {"idShort": "x", "modelType": "SubmodelElementCollection", "value": [nested]}
    technical["submodelElements"].append(nested)
    width.update(value="2")
    response = client_for(people["staff"]).post(f"/api/factories/{plant.id}/aas/", document, format="json")
    assert response.status_code == 200, response.content


def test_the_admin_imports_an_environment_through_the_service_and_links_the_download(plant, people, client):
    """The admin's "Import…" page of a factory: the same service as the API (audit entry, same answer),
    refusals shown as messages; the change page links the download and the import."""
    staff = people["staff"]
    staff.is_superuser = True
    staff.save()
    client.force_login(people["olivia"])
    document = export(client, plant)
    empty = make_factory(name="Empty Plant", slug="empty-plant", members={people["olivia"]: Role.OWNER, staff: Role.OWNER})
    client.force_login(staff)
    change = client.get(f"/admin/twins/factory/{empty.id}/change/")
    assert f"/api/factories/{empty.id}/aas/".encode() in change.content and b"import-aas" in change.content
    upload = SimpleUploadedFile("plant.aas.json", json.dumps(document).encode(), content_type="application/json")
    response = client.post(f"/admin/twins/factory/{empty.id}/import-aas/", {"file": upload}, follow=True)
    assert response.status_code == 200
    assert b"twins created" in response.content
    assert Twin.objects.filter(factory=empty, key="cnc-1").exists()
    assert AuditEntry.objects.filter(factory_id=empty.id, action="twin.create").exists()
    bad = SimpleUploadedFile("bad.json", b'{"assetAdministrationShells": 7}', content_type="application/json")
    response = client.post(f"/admin/twins/factory/{empty.id}/import-aas/", {"file": bad}, follow=True)
    assert b"not an AAS V3.0 environment" in response.content or b"nothing to import" in response.content
