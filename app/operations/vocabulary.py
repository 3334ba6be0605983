"""Domain vocabulary shared by pages, notifications and seeding (domain.md §5, §11.13)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LEVEL_NAMES = {
    1: "Ⅰ级 特别重大网络舆情",
    2: "Ⅱ级 重大或较大网络舆情",
    3: "Ⅲ级 一般网络舆情",
    4: "Ⅳ级 影响较小的网络舆情",
}

# Status of an incident's ledger head (`incident.status`): code → label.
INCIDENT_STATUSES = {
    "open": _l("处置中"),
    "closed": _l("已结案"),
    "rejected": _l("不予启动"),
    "terminated": _l("已终止"),
}

# (code, Chinese name, English name); lanes in processes/ name these codes.
ROLES = [
    ("monitor", "舆情监控员", "Monitor"),
    ("office_director", "领导小组办公室主任", "Office director"),
    ("office_staff", "办公室工作人员", "Office staff"),
    ("info_officer", "局信息员", "Information officer"),
    ("group_leader", "领导小组组长", "Leadership group leader"),
    ("group_deputy", "领导小组副组长", "Leadership group deputy"),
    ("consultation_member", "会商研判组成员", "Consultation group member"),
    ("team_coordination", "应急处置协调组", "Coordination team"),
    ("team_investigation", "应急处置调查组", "Investigation team"),
    ("team_publicity", "应急处置宣传组", "Publicity team"),
    ("team_support", "应急处置保障组", "Support team"),
    ("section_head", "承办科室负责人", "Section head"),
    ("section_staff", "承办科室工作人员", "Section staff"),
    ("spokesperson", "新闻发言人", "Spokesperson"),
    ("commentator", "网评员", "Commentator"),
    ("party_group", "局党组", "Bureau Party group"),
    ("risk_owner", "风险评估主体", "Risk-assessment owner"),
    ("process_owner", "流程管理员", "Process owner"),
    ("process_publisher", "流程发布人", "Process publisher"),
    ("admin", "系统管理员", "Administrator"),
]

ORG_UNITS = [
    ("office", "局办公室", "section"),
    ("policy", "政策法规科", "section"),
    ("employment", "就业促进科", "section"),
    ("social_insurance", "社会保险科", "section"),
    ("labour_relations", "劳动关系科", "section"),
    ("supervision", "劳动保障监察支队", "subordinate"),
    ("service_center", "政务服务中心", "subordinate"),
]
# English names of the seeded units (a unit an admin adds may have none: the English pages then show `name`).
ORG_UNIT_NAMES_EN = {
    "office": "Bureau office",
    "policy": "Policy and regulations section",
    "employment": "Employment promotion section",
    "social_insurance": "Social insurance section",
    "labour_relations": "Labour relations section",
    "supervision": "Labour security inspection brigade",
    "service_center": "Government service centre",
}


# The levels on English pages (documents, exports and notices keep the Chinese: they pass no locale).
LEVEL_NAMES_EN = {
    1: "Level Ⅰ – especially serious",
    2: "Level Ⅱ – serious or major",
    3: "Level Ⅲ – general",
    4: "Level Ⅳ – minor",
}
LEVEL_SHORT_EN = {1: "Level Ⅰ", 2: "Level Ⅱ", 3: "Level Ⅲ", 4: "Level Ⅳ"}


def level_name(level: object, locale: str | None = None) -> str | None:
    """Display name of a level 1–4, or None; in English when `locale` is English."""
    if not isinstance(level, int):
        return None
    names = LEVEL_NAMES_EN if (locale or "").lower().startswith("en") else LEVEL_NAMES
    return names.get(level)


def level_short(level: object, locale: str | None = None) -> str | None:
    """The level without its description: Ⅲ级, or Level Ⅲ in English."""
    if (locale or "").lower().startswith("en"):
        return LEVEL_SHORT_EN.get(level) if isinstance(level, int) else None
    name = level_name(level)
    return name.split(" ")[0] if name else None


def list_separator(locale: str | None = None) -> str:
    """How the reader's language lists names: 、 in Chinese, ", " in English (decision 128)."""
    return ", " if (locale or "").lower().startswith("en") else "、"


def listed(values: object, locale: str | None = None) -> str:
    """Names joined as `locale` lists them: 甲、乙 or A, B (the `listed` filter, and messages built in Python)."""
    return list_separator(locale).join(str(value) for value in values)  # type: ignore[attr-defined]
