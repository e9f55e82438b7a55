"""Small synthetic dump pieces shared by the scanner tests (built in tmp_path, never real people)."""

from pathlib import Path


def nir(body: str) -> str:
    from garde.scanner.detect.validators import nir_key

    return f"{body}{nir_key(body):02d}"


NIR_DUPONT = nir("1650335238012")
NIR_MARTIN = nir("2800275056034")

PATIENTS_CSV = (
    "IPP;Nom;Prénom;Date de naissance;NIR;Téléphone;Code postal;Diagnostic\n"
    f"00123;DUPONT;Jean;12/03/1965;{NIR_DUPONT};06 12 34 56 78;35000;E11.9\n"
    f"00124;MARTIN;Claire;01/02/1980;{NIR_MARTIN};0299112233;35700;J45\n"
    "00125;LE GOFF;Yann;23/07/1991;;07 81 22 33 44;29200;S52.5\n"
)

HL7_MESSAGE = (
    "MSH|^~\\&|APP|CHU|||202301011200||ADT^A01|1|P|2.5\r"
    f"PID|1||00123^^^CHU^PI~{NIR_DUPONT}^^^INS-NIR^INS||DUPONT^JEAN||19650312|M|||12 rue de la Paix^^Rennes^^35000||0612345678\r"
    "NK1|1|DUPONT^MARIE|SPO\r"
    "DG1|1||E11.9^Diabète de type 2^CIM10\r"
)

LETTER = (
    "Rennes, le 3 mars 2023\n\n"
    "Objet : Mme Claire Martin, née le 01/02/1980\n\n"
    "Chère consœur, je vous adresse Mme Martin pour son asthme (CIM-10 J45).\n"
)


def write_dump(root: Path) -> Path:
    """Three patients in a CSV; Jean Dupont again in an HL7 message (with his wife as next of kin);
    Claire Martin again in a letter (name and birth date only)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "patients.csv").write_text(PATIENTS_CSV, encoding="utf-8")
    (root / "adt.hl7").write_text(HL7_MESSAGE, encoding="utf-8")
    (root / "courriers").mkdir()
    (root / "courriers" / "martin.txt").write_text(LETTER, encoding="cp1252")
    return root
