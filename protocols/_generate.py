"""Write protocols/template.xml, protocols/E09*.xml and protocols/fixtures/E09*.toml.

Run from the repository root:  python protocols/_generate.py

The XML and TOML files are the source of truth and are committed; this script
only records how the first versions were drafted from the pan-London
template plus each borough's local variations. Edit the XML directly from now
on (and bump <Version>); rerunning the script overwrites local edits.

Fixture expectations are written here by hand from the intent of each rule,
never computed by the policy engine, so `irthub policy test` checks the
engine against what the protocols were meant to say.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HERE = Path(__file__).resolve().parent
DIRECTORY = tomllib.loads((HERE.parent / "hub" / "directory" / "london.toml").read_text())
NAMES = {a["code"]: a["name"] for a in DIRECTORY["authority"]}
NEIGHBOURS = {a["code"]: a["neighbours"] for a in DIRECTORY["authority"]}
GROUP = {a["code"]: a["group"] for a in DIRECTORY["authority"]}

ORDINARY = ["identity", "involvement", "contact", "assessment"]
S47_SENSITIVE = ["domestic-abuse", "mental-health", "substance-misuse"]
ALL_SENSITIVE = ["mental-health", "sexual-health", "substance-misuse", "domestic-abuse", "youth-justice"]
ICB = {  # the five London integrated care boards (NHS), by member borough
    "NHS North Central London ICB": ["E09000003", "E09000007", "E09000010", "E09000014", "E09000019"],
    "NHS North East London ICB": ["E09000001", "E09000002", "E09000012", "E09000016", "E09000025",
                                  "E09000026", "E09000030", "E09000031"],
    "NHS North West London ICB": ["E09000005", "E09000009", "E09000013", "E09000015", "E09000017",
                                  "E09000018", "E09000020", "E09000033"],
    "NHS South East London ICB": ["E09000004", "E09000006", "E09000011", "E09000022", "E09000023",
                                  "E09000028"],
    "NHS South West London ICB": ["E09000008", "E09000021", "E09000024", "E09000027", "E09000029",
                                  "E09000032"],
}
ICB_OF = {code: icb for icb, codes in ICB.items() for code in codes}
STATUTORY = ["social-care", "police", "health", "education", "youth-justice", "probation"]


@dataclass
class R:
    id: str
    effect: str
    side: str
    purposes: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)  # "neighbours", "group:x", code, "london"
    level: str | None = None
    categories: list[str] = field(default_factory=list)
    description: str = ""


TEMPLATE_RULES = [
    # ---- what we disclose to partner authorities
    R("d-s47", "permit", "disclose", ["child-protection-s47"],
      ["given", "refused", "not-sought", "not-required"], STATUTORY, level="details",
      description="Section 47 enquiries: full details to statutory partners, whatever the consent."),
    R("d-s47-sensitive", "permit", "disclose", ["child-protection-s47"],
      ["given", "refused", "not-sought", "not-required"], ["social-care", "police", "health"],
      level="details", categories=ORDINARY + S47_SENSITIVE,
      description="Section 47: domestic abuse, mental and substance-misuse history to social care, police and health."),
    R("d-cin", "permit", "disclose", ["child-in-need-s17"], ["given", "not-required"],
      ["social-care", "health", "education", "early-help"], level="contacts",
      description="Child in need with consent: who is involved and how to reach them."),
    R("d-cin-unconsented", "permit", "disclose", ["child-in-need-s17"], ["not-sought"],
      ["social-care"], level="existence",
      description="Child in need where consent was not sought: known or not, to social care only."),
    R("d-cin-consented-sensitive", "permit", "disclose", ["child-in-need-s17"], ["given"],
      ["social-care", "health"], level="contacts", categories=ORDINARY + ["mental-health", "sexual-health"],
      description="Explicit consent lets social care and health see mental and sexual health involvement."),
    R("d-early-help", "permit", "disclose", ["early-help"], ["given"],
      ["social-care", "early-help", "education", "health", "voluntary", "housing"], level="agencies",
      description="Early help is consensual: which agencies are involved, with consent only."),
    R("d-lac", "permit", "disclose", ["looked-after-child"], ["given", "not-sought", "not-required"],
      ["social-care", "education", "health"], level="details",
      description="Looked-after children: the corporate parent's partners see details."),
    R("d-missing", "permit", "disclose", ["missing-child"],
      ["given", "refused", "not-sought", "not-required"], ["social-care", "police", "health", "education"],
      level="contacts", description="Missing children: contacts to find the child quickly."),
    R("d-education-welfare", "permit", "disclose", ["education-welfare"], ["given", "not-required"],
      ["education", "social-care"], level="agencies",
      description="Education welfare: which agencies are involved."),
    R("d-no-refused-early-help", "forbid", "disclose", ["early-help"], ["refused"],
      description="Early help without the family's agreement is never shared."),
    # ---- what our practitioners may ask partner authorities for
    R("r-safeguarding", "permit", "request",
      ["child-protection-s47", "missing-child", "looked-after-child"],
      ["given", "refused", "not-sought", "not-required"], level="details",
      categories=ORDINARY + ALL_SENSITIVE,
      description="Any of our practitioners may ask in safeguarding work and receive what partners allow."),
    R("r-support", "permit", "request", ["child-in-need-s17", "early-help", "education-welfare"],
      ["given", "not-sought", "not-required"], level="details",
      categories=ORDINARY + ["mental-health", "sexual-health"],
      description="Support work: ask with consent or where it was not sought."),
    R("r-no-refused-early-help", "forbid", "request", ["early-help"], ["refused"],
      description="Our practitioners do not ask about early help the family refused."),
]


@dataclass
class Doc:
    code: str
    version: int = 1
    effective_from: str = "2026-04-01"
    effective_to: str | None = None
    partners: list[str] = field(default_factory=lambda: ["london"])
    rules: list[R] = field(default_factory=lambda: list(TEMPLATE_RULES))
    retention: int = 365
    no_onward: bool = True
    notify: bool = False
    note: str = "Adopts the pan-London template without local variation."
    cases: list[dict[str, object]] = field(default_factory=list)


def rule_index(rules: list[R], rule_id: str) -> int:
    return next(i for i, r in enumerate(rules) if r.id == rule_id)


def with_rule(doc: Doc, rule: R, *, replace_id: str | None = None) -> None:
    if replace_id is None:
        doc.rules.append(rule)
    else:
        doc.rules[rule_index(doc.rules, replace_id)] = rule


def variations() -> dict[str, Doc]:
    docs = {code: Doc(code) for code in NAMES}

    d = docs["E09000001"]  # City of London: small population, shares with its area only
    d.partners = ["neighbours", "group:central"]
    d.notify = True
    d.note = "Shares only with its neighbours and the Central sub-region; notifies on every access."

    d = docs["E09000003"]  # Barnet: no disclosure to the voluntary sector
    with_rule(d, R("d-no-voluntary", "forbid", "disclose", agencies=["voluntary"],
                   description="Nothing is disclosed to voluntary-sector practitioners."))
    d.version, d.effective_from = 2, "2026-06-01"
    d.note = "Forbids any disclosure to voluntary-sector practitioners."

    d = docs["E09000008"]  # Croydon: education sees practitioner contacts
    with_rule(d, R("d-education-contacts", "permit", "disclose", ["education-welfare", "early-help"],
                   ["given", "not-required"], ["education"], level="contacts",
                   categories=["identity", "involvement", "contact"],
                   description="Schools may see the named practitioner's contact details."))
    d.note = "Lets education see practitioner contacts for education welfare and early help."

    d = docs["E09000009"]  # Ealing: shorter retention
    d.retention = 90
    d.note = "Recipients may keep what Ealing discloses for 90 days only."

    d = docs["E09000010"]  # Enfield: probation never in early help
    with_rule(d, R("d-no-probation-early-help", "forbid", "disclose", ["early-help"],
                   agencies=["probation"], description="Probation has no role in early help."))
    d.note = "Forbids early-help disclosure to probation."

    d = docs["E09000012"]  # Hackney: youth justice history to youth justice services
    with_rule(d, R("d-youth-justice", "permit", "disclose", ["child-protection-s47", "missing-child"],
                   ["given", "refused", "not-sought", "not-required"], ["youth-justice"],
                   level="details", categories=ORDINARY + ["youth-justice"],
                   description="Youth offending teams see youth justice history in s47 and missing-child work."))
    d.note = "Shares youth justice history with youth justice services in s47 and missing-child work."

    d = docs["E09000016"]  # Havering: missing children in detail to neighbours
    with_rule(d, R("d-missing-neighbours", "permit", "disclose", ["missing-child"],
                   ["given", "refused", "not-sought", "not-required"], ["social-care", "police"],
                   partners=["neighbours"], level="details",
                   description="Neighbouring boroughs' social care and police get full details on missing children."))
    d.note = "Gives neighbours' social care and police full details on missing children."

    d = docs["E09000017"]  # Hillingdon: no sensitive categories at all to police
    d.version, d.effective_from = 3, "2026-09-01"
    with_rule(d, replace(TEMPLATE_RULES[1], agencies=["social-care", "health"],
                         description="Section 47 sensitive categories to social care and health only."),
              replace_id="d-s47-sensitive")
    d.note = "Withholds sensitive categories from police even in s47 enquiries."

    d = docs["E09000019"]  # Islington: sexual health to health practitioners in s47
    with_rule(d, R("d-s47-sexual-health", "permit", "disclose", ["child-protection-s47"],
                   ["given", "refused", "not-sought", "not-required"], ["health"], level="details",
                   categories=ORDINARY + ["sexual-health"],
                   description="Health practitioners also see sexual health involvement in s47 enquiries."))
    d.note = "Adds sexual health for health practitioners in s47 enquiries."

    d = docs["E09000022"]  # Lambeth: early help without consent only as existence
    with_rule(d, R("d-early-help-unconsented", "permit", "disclose", ["early-help"], ["not-sought"],
                   ["social-care", "early-help"], level="existence",
                   description="Without consent Lambeth confirms only whether it knows the child: never which agencies."))
    d.note = "For early help without consent, confirms existence only and never the agencies involved."

    d = docs["E09000025"]  # Newham: own practitioners ask education welfare at agencies level only
    with_rule(d, R("r-support", "permit", "request", ["child-in-need-s17", "early-help"],
                   ["given", "not-sought", "not-required"], level="details",
                   categories=ORDINARY + ["mental-health", "sexual-health"],
                   description="Support work: ask with consent or where it was not sought."),
              replace_id="r-support")
    with_rule(d, R("r-education-welfare", "permit", "request", ["education-welfare"],
                   ["given", "not-required"], ["education", "social-care"], level="agencies",
                   description="Education welfare officers ask only which agencies are involved."))
    d.note = "Its own education-welfare requests ask for the agencies level at most."

    d = docs["E09000028"]  # Southwark: housing in child-in-need work with consent
    with_rule(d, R("d-cin-housing", "permit", "disclose", ["child-in-need-s17"], ["given"],
                   ["housing"], level="agencies", description="Housing officers see which agencies are involved, with consent."))
    d.note = "Lets housing officers see agencies involved in child-in-need work with consent."

    d = docs["E09000029"]  # Sutton: shares only within South London and with neighbours
    d.partners = ["group:south", "neighbours"]
    d.note = "Shares only with the South sub-region and its neighbours."

    d = docs["E09000030"]  # Tower Hamlets: police never in education welfare
    with_rule(d, R("d-no-police-education-welfare", "forbid", "disclose", ["education-welfare"],
                   agencies=["police"], description="Police requests for education-welfare purposes are refused."))
    d.note = "Forbids police requests for education-welfare purposes."

    d = docs["E09000033"]  # Westminster: stricter obligations
    d.retention, d.notify, d.version = 180, True, 2
    d.note = "Recipients keep disclosures 180 days and Westminster is notified of every access."

    # South London: child-in-need without consent shares contacts within the sub-region
    for code, doc in docs.items():
        if GROUP[code] == "south":
            with_rule(doc, R("d-south-cin", "permit", "disclose", ["child-in-need-s17"], ["not-sought"],
                             ["social-care", "health", "education"], partners=["group:south"],
                             level="contacts",
                             description="South London partners share contacts in child-in-need work even where consent was not sought."))
            doc.note += " Shares more within the South sub-region (child in need without consent)."
    return docs


# ------------------------------------------------------------------ rendering

def render(doc: Doc, *, template: bool = False) -> str:
    code = doc.code
    title = "Pan-London information sharing protocol template" if template else (
        f"{NAMES[code]} children's services information sharing protocol")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append(f"<!-- {escape(doc.note)} -->")
    lines.append('<InformationSharingProtocol xmlns="urn:lcpc:irt:isp:1">')
    isp_id = "isp-pan-london-template" if template else f"isp-{code}"
    lines.append(f"  <Id>{isp_id}</Id>")
    lines.append(f"  <Authority>{code}</Authority>")
    lines.append(f"  <Version>{doc.version}</Version>")
    lines.append(f"  <Title>{escape(title)}</Title>")
    lines.append(f"  <EffectiveFrom>{doc.effective_from}</EffectiveFrom>")
    if doc.effective_to:
        lines.append(f"  <EffectiveTo>{doc.effective_to}</EffectiveTo>")
    borough = "the adopting authority" if template else NAMES[code]
    lines.append("  <Signatories>")
    for agency, name in [
        ("social-care", f"{borough} Children's Social Care"),
        ("education", f"{borough} Education and Inclusion"),
        ("health", "The adopting authority's NHS integrated care board" if template else ICB_OF[code]),
        ("police", "Metropolitan Police Service" if code != "E09000001" or template else "City of London Police"),
        ("early-help", f"{borough} Early Help"),
    ]:
        lines.append(f"    <Agency type={quoteattr(agency)} name={quoteattr(name)}/>")
    lines.append("  </Signatories>")
    lines.append("  <Partners>")
    lines += [f"    {p}" for p in partner_elements(doc.partners)]
    lines.append("  </Partners>")
    lines.append("  <Rules>")
    for r in doc.rules:
        lines.append(f"    <Rule id={quoteattr(r.id)} effect={quoteattr(r.effect)} side={quoteattr(r.side)}>")
        if r.description:
            lines.append(f"      <Description>{escape(r.description)}</Description>")
        lines += [f"      <Purpose>{p}</Purpose>" for p in r.purposes]
        lines += [f"      <Consent>{c}</Consent>" for c in r.consents]
        lines += [f"      <RequesterAgency>{a}</RequesterAgency>" for a in r.agencies]
        if r.partners:
            lines.append("      <Partners>")
            lines += [f"        {p}" for p in partner_elements(r.partners)]
            lines.append("      </Partners>")
        if r.level:
            lines.append(f"      <MaxLevel>{r.level}</MaxLevel>")
        lines += [f"      <Category>{c}</Category>" for c in r.categories]
        lines.append("    </Rule>")
    lines.append("  </Rules>")
    lines.append("  <Obligations>")
    lines.append(f"    <RetentionDays>{doc.retention}</RetentionDays>")
    lines.append(f"    <NoOnwardSharing>{str(doc.no_onward).lower()}</NoOnwardSharing>")
    lines.append(f"    <NotifyOwner>{str(doc.notify).lower()}</NotifyOwner>")
    lines.append("  </Obligations>")
    lines.append("</InformationSharingProtocol>")
    return "\n".join(lines) + "\n"


def partner_elements(partners: list[str]) -> list[str]:
    out = []
    for p in partners:
        if p == "london":
            out.append("<London/>")
        elif p == "neighbours":
            out.append("<Neighbours/>")
        elif p.startswith("group:"):
            out.append(f"<Group>{p[6:]}</Group>")
        else:
            out.append(f"<Authority>{p}</Authority>")
    return out


# ------------------------------------------------------------------ fixtures
# The counterpart of the generic cases is a neighbour whose behaviour in those
# cases is the template's: not the City or Sutton (narrow partners) nor Havering
# (missing children in detail to neighbours).

UNLIKE_TEMPLATE = {"E09000001", "E09000029", "E09000016"}


def plain_partner(code: str) -> str:
    return next(n for n in NEIGHBOURS[code] if n not in UNLIKE_TEMPLATE)


S47_SOCIAL_CARE_CATS = ORDINARY + S47_SENSITIVE


def case(name: str, req: str, resp: str, purpose: str, consent: str, agency: str, level: str,
         expect: str, expect_level: str = "none", cats: list[str] | None = None,
         rules: list[str] | None = None) -> dict[str, object]:
    c: dict[str, object] = {
        "name": name, "requester": req, "responder": resp, "purpose": purpose,
        "consent": consent, "agency": agency, "level": level, "expect": expect,
        "expect_level": expect_level,
    }
    if expect == "permit":
        c["expect_categories"] = sorted(cats or [])
    c["expect_rules"] = sorted(rules or [])
    return c


def generic_cases(doc: Doc) -> list[dict[str, object]]:
    x, y = doc.code, plain_partner(doc.code)
    s47_cats = S47_SOCIAL_CARE_CATS
    cases = [
        case("s47 social care from a partner gets details and the s47 sensitive categories",
             y, x, "child-protection-s47", "not-required", "social-care", "details",
             "permit", "details", s47_cats, [f"{y}:r-safeguarding", f"{x}:d-s47", f"{x}:d-s47-sensitive"]),
        case("early help the family refused is forbidden on both sides",
             y, x, "early-help", "refused", "early-help", "agencies", "deny",
             rules=[f"{y}:r-no-refused-early-help", f"{x}:d-no-refused-early-help"]),
        case("voluntary sector practitioners get nothing in s47 (no disclose rule names them)",
             y, x, "child-protection-s47", "given", "voluntary", "existence", "deny",
             rules=[f"{y}:r-safeguarding"] + ([f"{x}:d-no-voluntary"] if x == "E09000003" else [])),
        case("early help with consent is capped at the agencies level",
             y, x, "early-help", "given", "early-help", "contacts", "permit", "agencies",
             ORDINARY, [f"{y}:r-support", f"{x}:d-early-help"]),
        case("our police asking about a missing child get what was asked for (existence)",
             x, y, "missing-child", "not-sought", "police", "existence", "permit", "existence",
             ORDINARY, [f"{x}:r-safeguarding", f"{y}:d-missing"]),
        case("child in need with consent: health sees mental and sexual health at contacts",
             y, x, "child-in-need-s17", "given", "health", "details", "permit", "contacts",
             ORDINARY + ["mental-health", "sexual-health"],
             [f"{y}:r-support", f"{x}:d-cin", f"{x}:d-cin-consented-sensitive"]),
    ]
    return cases


def specific_cases(doc: Doc) -> list[dict[str, object]]:
    x = doc.code
    y = plain_partner(x)
    if x == "E09000001":
        far = "E09000016"  # Havering: neither a neighbour nor Central
        return [case("Havering is outside the City's partners", far, x, "child-protection-s47",
                      "not-required", "social-care", "details", "deny", rules=[f"{far}:r-safeguarding"]),
                case("the City's own practitioners cannot ask outside its partners", x, far,
                     "child-protection-s47", "not-required", "social-care", "details", "deny",
                     rules=[f"{far}:d-s47", f"{far}:d-s47-sensitive"])]
    if x == "E09000003":
        return [case("voluntary sector early help is forbidden by Barnet", y, x, "early-help", "given",
                     "voluntary", "agencies", "deny", rules=[f"{y}:r-support", f"{x}:d-no-voluntary"])]
    if x == "E09000008":
        return [case("schools see practitioner contacts in Croydon", y, x, "education-welfare", "given",
                     "education", "details", "permit", "contacts", ["contact", "identity", "involvement"],
                     [f"{y}:r-support", f"{x}:d-education-contacts"]),
                case("a Croydon school asking a plain borough gets agencies only", x, y, "education-welfare",
                     "given", "education", "details", "permit", "agencies", ORDINARY,
                     [f"{x}:r-support", f"{y}:d-education-welfare"])]
    if x == "E09000010":
        return [case("probation is forbidden early help in Enfield", y, x, "early-help", "given",
                     "probation", "existence", "deny", rules=[f"{y}:r-support", f"{x}:d-no-probation-early-help"])]
    if x == "E09000012":
        return [case("youth justice sees youth justice history in s47", y, x, "child-protection-s47",
                     "not-required", "youth-justice", "details", "permit", "details", ORDINARY + ["youth-justice"],
                     [f"{y}:r-safeguarding", f"{x}:d-s47", f"{x}:d-youth-justice"])]
    if x == "E09000016":
        far = "E09000033"
        return [case("a neighbour's police get full details on a missing child", y, x, "missing-child",
                     "refused", "police", "details", "permit", "details", ORDINARY,
                     [f"{y}:r-safeguarding", f"{x}:d-missing-neighbours"]),
                case("a non-neighbour's police get contacts only", far, x, "missing-child", "refused",
                     "police", "details", "permit", "contacts", ORDINARY,
                     [f"{far}:r-safeguarding", f"{x}:d-missing"])]
    if x == "E09000017":
        return [case("police get no sensitive categories from Hillingdon in s47", y, x,
                     "child-protection-s47", "given", "police", "details", "permit", "details", ORDINARY,
                     [f"{y}:r-safeguarding", f"{x}:d-s47"])]
    if x == "E09000019":
        return [case("health sees sexual health in an Islington s47 enquiry", y, x, "child-protection-s47",
                     "not-required", "health", "details", "permit", "details",
                     ORDINARY + S47_SENSITIVE + ["sexual-health"],
                     [f"{y}:r-safeguarding", f"{x}:d-s47", f"{x}:d-s47-sensitive", f"{x}:d-s47-sexual-health"])]
    if x == "E09000022":
        return [case("early help without consent: existence only, never agencies", y, x, "early-help",
                     "not-sought", "early-help", "agencies", "permit", "existence", ORDINARY,
                     [f"{y}:r-support", f"{x}:d-early-help-unconsented"]),
                case("early help without consent from a plain borough is denied", x, y, "early-help",
                     "not-sought", "early-help", "existence", "deny", rules=[f"{x}:r-support"])]
    if x == "E09000025":
        return [case("Newham's education welfare requests are capped at agencies", x, y, "education-welfare",
                     "given", "education", "details", "permit", "agencies", ORDINARY,
                     [f"{x}:r-education-welfare", f"{y}:d-education-welfare"]),
                case("Newham's police may not ask for education welfare", x, y, "education-welfare",
                     "given", "police", "existence", "deny", rules=[])]
    if x == "E09000028":
        return [case("housing sees agencies in child-in-need work with consent", y, x, "child-in-need-s17",
                     "given", "housing", "details", "permit", "agencies", ORDINARY,
                     [f"{y}:r-support", f"{x}:d-cin-housing"])]
    if x == "E09000029":
        far = "E09000033"
        return [case("Westminster is outside Sutton's partners", far, x, "child-protection-s47",
                     "not-required", "social-care", "details", "deny", rules=[f"{far}:r-safeguarding"])]
    if x == "E09000030":
        return [case("police requests for education welfare are forbidden", y, x, "education-welfare",
                     "given", "police", "existence", "deny",
                     rules=[f"{y}:r-support", f"{x}:d-no-police-education-welfare"])]
    return []


def south_cases(doc: Doc) -> list[dict[str, object]]:
    x = doc.code
    if GROUP[x] != "south":
        return []
    other_south = "E09000024" if x != "E09000024" else "E09000021"
    outside = "E09000002"  # Barking and Dagenham: East, and no South borough's neighbour
    return [case("child in need without consent: contacts within South London", other_south, x,
                 "child-in-need-s17", "not-sought", "health", "details", "permit", "contacts", ORDINARY,
                 [f"{other_south}:r-support", f"{x}:d-south-cin"]),
            case("child in need without consent from outside South London is denied", outside, x,
                 "child-in-need-s17", "not-sought", "health", "existence", "deny",
                 rules=[f"{outside}:r-support"])]


def render_fixtures(doc: Doc, cases: list[dict[str, object]]) -> str:
    lines = [
        f"# Expected decisions for protocols/{doc.code}.xml ({NAMES[doc.code]}).",
        "# Format (read by `irthub policy test`):",
        "#   document = the ISP file these cases belong to (beside this folder's parent)",
        "#   [[case]]: name; requester and responder (one of them is this document's",
        "#   authority; the other side's ISP is the one in the same protocols folder);",
        "#   purpose, consent, agency (the requesting practitioner's) and level (asked for);",
        "#   expect = permit | deny; expect_level = the granted level (none when denied);",
        "#   expect_categories = the granted categories (permits only);",
        "#   expect_rules = the deciding rules of both sides as AUTHORITY:RULE-ID, any order",
        "#   (the forbids that matched, or the permits that set each side's level).",
        f'document = "{doc.code}.xml"',
        "",
    ]
    for c in cases:
        lines.append("[[case]]")
        for key, value in c.items():
            if isinstance(value, list):
                lines.append(f"{key} = [{', '.join(quote(v) for v in value)}]")
            else:
                lines.append(f"{key} = {quote(value)}")
        lines.append("")
    return "\n".join(lines)


def quote(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    template = Doc("E09000001", note="Pan-London template: copy, set Id, Authority and Signatories, then vary.")
    (HERE / "template.xml").write_text(render(template, template=True).replace(
        "<Authority>E09000001</Authority>",
        "<Authority>E09000001</Authority><!-- replace with the adopting authority -->"))
    docs = variations()
    for code, doc in docs.items():
        (HERE / f"{code}.xml").write_text(render(doc))
        cases = generic_cases(doc) + specific_cases(doc) + south_cases(doc)
        (HERE / "fixtures" / f"{code}.toml").write_text(render_fixtures(doc, cases))


if __name__ == "__main__":
    main()
