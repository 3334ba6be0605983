"""What people type into each task form: field names as the pages render them, choices by their visible
label (a list for check boxes), times relative to the controlled clock when a form does not fill them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import clock
from tests.e2e.browser import FIRST

INCIDENT_TITLE = "某街道就业服务窗口推诿群众引发网民关注"
LINK = "https://weibo.com/1234567/Abc"


def local(walk: Any, **delta: float) -> str:
    """A datetime-local value: the controlled clock in Shanghai, moved by `delta`."""
    return clock.local(walk.clock() + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def register(**traits: str) -> dict[str, Any]:
    """The quick report of an employment-service incident; `traits` override the five grading traits."""
    values = {
        "title": INCIDENT_TITLE, "source_type": "自行监测", "platform": "微博", "url": LINK,
        "author": "网民甲", "summary": "网民发帖反映就业服务窗口办事推诿,评论数百条。",
        "related_units": ["就业促进科"], "views": "12000", "reposts": "85", "comments": "230", "likes": "410",
        "netizen_attention": "低", "foreign_media": "未关注", "spread_speed": "慢", "impact_scope": "较小范围内",
        "offline_risk": "没有可能", "is_mass_incident": "否", "is_sudden_event": "否", "is_false_info": "否",
        "suggestion": "建议就业促进科核实情况。", "attachments": ["网帖截图.png"],
    }
    values.update(traits)
    return values


CONSULT = {
    "participants": "办公室、就业促进科", "external_consulted": [FIRST], "event_basics": "窗口排队时间长。",
    "media_coverage": "暂无媒体报道。", "online_opinion": "以抱怨为主。", "trend": "平稳",
    "talking_points": "正视问题,说明整改。", "measures": "当日增开窗口。", "need_press_conference": "否",
    "dispatch_needed": "否", "commentators": ["网评员(演示)"],
}


def dispatch(walk: Any, page: Any) -> dict[str, Any]:
    return {"dispatch_tasks.0.unit": "就业促进科", "dispatch_tasks.0.task": "核实窗口排队情况并书面反馈",
            "dispatch_tasks.0.due_at": local(walk, hours=4),
            "dispatch_tasks.1.unit": "社会保险科", "dispatch_tasks.1.task": "核实当事人参保情况",
            "dispatch_tasks.1.due_at": local(walk, hours=4)}


def plan_revision(walk: Any, page: Any) -> dict[str, Any]:
    return {"revision_items": "增加窗口高峰期应急预案。", "owner_unit": "局办公室",
            "revision_due_date": clock.local(walk.clock() + timedelta(days=30)).strftime("%Y-%m-%d")}


INCIDENT: dict[str, list[Any]] = {
    "ut_register": [register()],
    "ut_confirm_level": [{"lead_unit": "就业促进科", "start_plan": "是",  # the proposed level, as prefilled
                          "instructions": "请就业促进科会同办公室核实情况。"}],
    "ut_leader_confirm": [{"start_plan": "是", "instructions": "同意,按预案处置。"}],
    "ut_request_instruction": [{"request_text": "拟按Ⅳ级响应处置,请批示。",
                                "proposed_measures": "核实情况,发布说明,跟踪引导。"}],
    "ut_instruction_decision": [{"decision": "同意", "leader_comment": "同意。"}],
    "ut_file_record": [{"filed_with": [FIRST], "file_note": "已电话报备。"}],
    "ut_external_report": [{"report_to": [FIRST], "quick_report_to_bodies": [FIRST],
                            "report_method": "政务系统", "receipt": "市委网信办值班室已接收。"}],
    "ut_request_superior": [{"report_to": [FIRST], "report_method": "公文", "receipt": "已接收。"}],
    "ut_task_force": [{"leader_person": "办公室主任", "liaison_person": "办公室工作人员", "contact": "0791-88888888",
                       "members.0.team": "协调组", "members.0.person": "协调组成员", "members.0.phone": "13800000000"}],
    "ut_investigate": [{"findings": "窗口高峰期排队约两小时,属实。", "facts_confirmed": "是",
                        "offline_actions": "当日增开两个窗口。"}],
    "ut_consult": [CONSULT],
    "ut_record_superior_measures": [{"superior_body": [FIRST], "superior_measures": "统一口径,及时发布。"}],
    "ut_dispatch": [dispatch],
    "ut_unit_feedback": [{"unit_done": "是", "unit_feedback_text": "已核实并整改。"}],
    "ut_draft_release": [{"release_title": "关于就业服务窗口问题的情况说明", "release_body": "经核实,已增开窗口。",
                          "fact_basis": "现场核实记录。", "channels": ["政务微博"],
                          "spokesperson": "新闻发言人(演示)"}],
    "ut_approve_release": [{"release_decision": "退回修改", "release_comment": "请补充整改时限。"},
                           {"release_decision": "同意"}],
    "ut_record_external_approval": [{"approver_body": FIRST, "approval_reference": "宣审〔2026〕1号"}],
    "ut_sign_release": [{"release_decision": "同意"}],
    "ut_publish_response": [{"channels": ["政务微博"], "links.0": "https://weibo.com/gov/1",
                             "published_text": "经核实,已于当日整改。", "screenshots": ["发布截图.png"]}],
    "ut_commentary": [{"article_title": "窗口服务在改进", "article_content": "窗口已增开,排队明显缩短。",
                       "article_platform": "微博", "article_url": "https://weibo.com/c/1"}],
    "ut_monitor_report": [{"monitor_trend": "降温", "worsening": "否"}],
    "ut_follow_up_log": [{"outcome": "无新情况"}, {"outcome": "缓退/平息"}],
    "ut_confirm_subsided": [{"basis": "讨论量明显下降。", "subsided_decision": "确认平息"}],
    "ut_aftermath_watch": [{"rebound_status": "无反弹", "aftermath_note": "无新增讨论。"}],
    "ut_summary": [{"work_summary": "处置及时。", "effectiveness": "好", "internal_causes": "窗口人手不足。",
                    "lessons": "高峰期需弹性排班。", "plan_revision_needed": "是"}],
    "ut_approve_summary": [{"summary_decision": "同意"}],
    "ut_accountability": [{"accountability_rows.0.subject": "就业促进科", "accountability_rows.0.evaluation": "表彰",
                           "accountability_rows.0.reason": "处置及时。"}],
    "ut_plan_revision": [plan_revision],
    "ut_request_spokesperson": [{"requested_from": FIRST}],
    "ut_request_spokesperson_party": [{"requested_from": FIRST}],
    "ut_regrade": [{"reason": "复核后维持原等级。"}],
    "ut_confirm_downgrade": [{"downgrade_decision": "同意降级", "downgrade_reason": "舆情明显回落。"}],
    "ut_reply_plan": [{"reply_plan": "由网评员说明整改时限和进展。", "reply_by": "网评员(演示)"}],
    "ut_reply_by_plan": [{"content": "窗口已增开,整改将于本周完成。", "links.0": "https://weibo.com/c/2"}],
    "ut_risk_no_assessment": [{"no_assessment_reason": "属于执行上级统一规定,不涉及本单位决策。"}],
    "ut_record_designation": [{"designated_person": "局新闻发言人"}],
    "ut_prepare_conference": [{"conference_format": "新闻发布会"}],
    "ut_press_conference_record": [{"media_present": "市电视台、日报社", "conference_summary": "通报调查进展。"}],
    "ut_false_info": [{"false_content": "网传窗口停办业务,与事实不符。", "media_name": "某论坛",
                       "contact_record": "已联系论坛管理员。", "false_info_actions": ["沟通更正", "发布澄清"],
                       "clarification_text": "窗口正常办理业务。"}],
    "ut_approve_clarification": [{"clarification_decision": "同意"}],
    "ut_false_info_party": [{"false_content": "网传窗口停办业务,与事实不符。", "media_name": "某论坛",
                             "contact_record": "已联系论坛管理员。", "false_info_actions": ["沟通更正", "删除"]}],
    "ut_false_info_result": [{"false_info_outcome": "论坛已删除不实帖文。", "clarification_link": "https://weibo.com/gov/2"}],
}


def with_answers(base: dict[str, list[Any]], **changes: Any) -> dict[str, list[Any]]:
    """The answers of `base`, some tasks answered differently (a dict for every round, or a list of rounds)."""
    merged = dict(base)
    for spec_id, answer in changes.items():
        merged[spec_id] = answer if isinstance(answer, list) else [answer]
    return merged


LEVEL3 = with_answers(
    INCIDENT,
    ut_register=register(netizen_attention="较高", spread_speed="中等", impact_scope="一定范围内"),
    ut_consult={**CONSULT, "dispatch_needed": "是", "need_press_conference": "是"},
    ut_follow_up_log=[{"outcome": "无法引导需上报", "questions": "网民质疑整改不到位。"}, {"outcome": "缓退/平息"}],
)
LEVEL2 = with_answers(
    INCIDENT,
    ut_register=register(netizen_attention="高", foreign_media="开始关注", is_false_info="是"),
    ut_leader_confirm={"start_plan": "是", "instructions": "同意按Ⅱ级响应,即报市委网信办。"},
)
LEVEL1 = with_answers(
    INCIDENT,
    ut_register=register(netizen_attention="极高", spread_speed="非常快", impact_scope="整个社会",
                         is_sudden_event="是", is_mass_incident="是"),
    ut_task_force=lambda walk, page: {
        "leader_person": "办公室主任", "liaison_person": "办公室工作人员", "contact": "0791-88888888",
        "members.0.team": "协调组", "members.0.person": "协调组成员", "members.0.phone": "13800000000",
        "duty_roster.0.from_at": local(walk), "duty_roster.0.to_at": local(walk, hours=24),
        "duty_roster.0.person": "舆情监控员"},
    ut_consult={**CONSULT, "need_press_conference": "是"},
)
WORSENING = {"monitor_trend": "升温", "netizen_attention": "高", "spread_speed": "快", "worsening": "是",
             "worsening_desc": "相关话题登上本地热搜,转发量一天内过万。"}
UPGRADE = with_answers(
    INCIDENT,
    ut_follow_up_log=[{"outcome": "无新情况"}] * 3 + [{"outcome": "缓退/平息"}],
    ut_monitor_report=[WORSENING, {"monitor_trend": "降温", "worsening": "否"}],
    ut_regrade={"confirmed_level": "Ⅱ级 重大或较大网络舆情", "reason": "转发量激增,影响扩散到很大范围。"},
)


def risk_measures(walk: Any, page: Any) -> dict[str, Any]:
    return {"risk_measures.0.measure": "提前发布政策解读", "risk_measures.0.owner": "政策法规科",
            "risk_measures.0.due": clock.local(walk.clock() + timedelta(days=10)).strftime("%Y-%m-%d")}


RISK: dict[str, list[Any]] = {
    "ut_risk_item": [{"decision_title": "调整城乡居民医保个人缴费标准", "risk_owner_unit": "政策法规科",
                      "risk_description": "拟自明年起将个人缴费标准每人每年提高30元。", "affects_interests": "是",
                      "risk_scope": "全市城乡居民参保人员约50万人。", "needs_assessment": "是", "simplified": "否"}],
    "ut_risk_plan": [{"risk_methods": ["舆情跟踪", "重点走访"], "experts_needed": "否",
                      "risk_schedule": "12月1日至10日走访座谈,12月15日前形成报告。",
                      "stakeholders.0.name": "参保居民代表", "stakeholders.0.way": "座谈",
                      "stakeholders.1.name": "定点医疗机构", "stakeholders.1.way": "走访"}],
    "ut_risk_opinion": [{"opinion_stance": "有条件支持", "opinion_text": "希望对困难群体给予补助。"}],
    "ut_risk_analysis": [{"legality_rating": "符合", "rationality_rating": "符合", "feasibility_rating": "符合",
                          "controllability_rating": "基本符合", "controllability_note": "个别群体可能集中反映诉求。",
                          "risk_public_safety": "否", "risk_mass_incident": "否", "risk_negative_opinion": "是",
                          "risk_negative_opinion_note": "可能引发对涨费的负面讨论。", "risk_other_stability": "否"}],
    "ut_risk_report": [{"risk_level": "中风险", "risk_report": "存在中等舆情风险,应先落实化解措施。"},
                       {"risk_level": "低风险", "risk_report": "措施落实后风险较低,可以实施。"}],
    "ut_risk_measures": [risk_measures],
    "ut_risk_decision": [{"risk_decision": "暂缓实施", "risk_decision_comment": "先落实化解措施。"},
                         {"risk_decision": "实施", "explanation_plan": "政策解读同步发布,热线统一答复口径。"}],
    "ut_risk_measures_done": [{"risk_measures_result": "政策解读已发布,困难群体补助方案已明确。"}],
    "ut_risk_filing": [{"superior_dept": FIRST, "filing_note": "已报送备案。"}],
}

MONTHLY: dict[str, list[Any]] = {
    "ut_draft_monthly": [{"overview": "本月舆情总体平稳。", "key_incidents": "就业服务窗口推诿一事已妥善处置。",
                          "risks": "年末社保缴费集中,需关注。", "suggestions": "加强窗口高峰期服务。"}],
    "ut_approve_monthly": [{"monthly_decision": "退回修改", "monthly_comment": "请补充下月风险研判。"},
                           {"monthly_decision": "同意"}],
    "ut_file_monthly": [{"filed_with": [FIRST], "filing_method": "政务系统"}],
}
