"""The web UI's two languages: Chinese (the default) and English, chosen with a cookie.

Texts are written in English in the templates and the code (`t("My caseload")`) and looked up
here for Chinese; a text missing here shows in English (a test keeps the table complete). The
domain's names (statuses, categories, kinds of help, event types, ...) are `term(group, value)`,
in the words of DOMAIN.md: 事实无人抚养儿童 / de facto orphan, 儿童主任 / child welfare director,
督导员 / supervisor.
"""

# Chinese is written with its own full-width punctuation, as it should be.
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import datetime
from typing import Final

from fastapi import Request

from domain.commands import PROGRAM_TIMEZONE

LANGUAGE_COOKIE: Final = "caseflow_lang"
LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"


def language_of(request: Request) -> str:
    """The cookie's language; else the browser's first choice among ours; else Chinese."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


# Texts of the pages, English -> Chinese.
ZH: Final[dict[str, str]] = {
    # layout, signing in
    "Cases of children in difficulty": "困境儿童个案管理",
    "Sign in": "登录",
    "Sign out": "退出",
    "Sign-in token": "登录令牌",
    "Ask your administrator for a sign-in token. It is personal: do not share it.": (
        "请向系统管理员索取登录令牌。令牌仅限本人使用，请勿转借。"
    ),
    "The token is unknown or has been revoked; check it, "
    "or ask your administrator for a new one.": (
        "令牌无效或已被撤销，请核对，或向系统管理员索取新令牌。"
    ),
    "Language": "语言",
    "Signed in as": "当前用户",
    "Menu": "菜单",
    # navigation
    "My caseload": "我的个案",
    "Caseload": "个案列表",
    "Report a child": "报告儿童",
    "Approvals": "待审批",
    "Area overview": "辖区概况",
    "Program report": "项目报表",
    "Integrity check": "完整性核验",
    # caseload
    "All open and closed cases": "全部个案",
    "Due today": "今日到期",
    "Overdue": "已逾期",
    "All": "全部",
    "Any": "不限",
    "Priority": "响应等级",
    "Status": "状态",
    "Risk": "风险",
    "Search": "搜索",
    "Case number or case id": "个案编号或个案ID",
    "Filter": "筛选",
    "Case": "个案",
    "Child": "儿童",
    "Village": "村",
    "Township": "乡镇",
    "County": "县",
    "Next deadline": "下一期限",
    "Caseworker": "负责人",
    "No cases match.": "没有符合条件的个案。",
    "{n} cases": "共 {n} 个个案",
    "Previous": "上一页",
    "Next": "下一页",
    "Search by the case number (the first 8 characters of the case id) or the whole case id.": (
        "请输入个案编号（个案ID的前8位）或完整的个案ID。"
    ),
    "overdue": "已逾期",
    "due today": "今日到期",
    "Cases appear here a moment after they are reported.": "新报告的个案稍后出现在列表中。",
    # report form
    "Report a child in difficulty": "报告困境儿童",
    "The child": "儿童信息",
    "Name": "姓名",
    "Sex": "性别",
    "Date of birth": "出生日期",
    "ID number (if known)": "身份证号（如已知）",
    "Household": "家庭",
    "Address": "住址",
    "Household members": "家庭人口",
    "Guardian": "监护人",
    "Second guardian (optional)": "第二监护人（选填）",
    "Relation to the child": "与儿童关系",
    "Phone": "电话",
    "Able to care for the child": "有监护能力",
    "Parents": "父母情况",
    "Father": "父亲",
    "Mother": "母亲",
    "Situation": "情况",
    "Since": "开始日期",
    "Expected end": "预计结束",
    "Disability grade": "残疾等级",
    "Disability kind": "残疾类别",
    "Categories": "儿童类别",
    "What was seen (mandatory reporting)": "发现的情况（强制报告）",
    "A child living alone, missing, neglected or suspected of suffering violence is reported "
    "at once and gets immediate priority (assessment within 24 hours).": (
        "独自居住、失踪、被忽视或疑似遭受暴力的儿童须立即报告，响应等级为“立即”（24小时内评估）。"
    ),
    "Reported by": "报告来源",
    "Observations": "发现的情况说明",
    "Send the report": "提交报告",
    "Please correct the fields marked below.": "请更正下面标出的项目。",
    "This field is required.": "此项必填。",
    "The value does not have the expected form.": "格式不正确。",
    "The value is too long.": "内容过长。",
    "The value is too small.": "数值过小。",
    "The value is too large.": "数值过大。",
    "The date cannot be in the future.": "日期不能晚于今天。",
    "The program serves children under 18.": "本项目只服务未满18周岁的儿童。",
    "A severe disability needs its certificate grade and kind.": "重度残疾须填写残疾证等级和类别。",
    "The report was not accepted": "报告未被接受",
    "(none)": "（无）",
    "Choose…": "请选择…",
    # case page
    "Case number": "个案编号",
    "Reported": "报告时间",
    "Assigned to": "负责人",
    "Age": "年龄",
    "{n} years": "{n} 岁",
    "Case as it stands": "个案现状",
    "Case as it stood": "个案当时情况",
    "What is pending": "待办事项",
    "Nothing is pending.": "没有待办事项。",
    "Assessment due": "评估期限",
    "Approval by the {level}": "待{level}审批",
    "Referral answer due": "转介答复期限",
    "Recognition: township verification due": "认定：乡镇核实期限",
    "Recognition: county confirmation due": "认定：县级确认期限",
    "Next visit due": "下次探访期限",
    "Next school check": "下次就学核查",
    "Closure waits for a supervisor": "结案待督导员审批",
    "Needs": "需求评估",
    "Not assessed yet.": "尚未评估。",
    "Score": "分值",
    "Total": "合计",
    "Risk level": "风险等级",
    "Assessed": "评估时间",
    "Guardians": "监护人",
    "until": "至",
    "able to care": "有监护能力",
    "not able to care": "无监护能力",
    "Case plan": "个案计划",
    "No case plan yet.": "尚无个案计划。",
    "Goals": "目标",
    "Planned help": "计划帮扶",
    "Review by": "复核日期",
    "Assistance": "救助",
    "Kind": "类别",
    "Quantity": "数量",
    "Unit": "单位",
    "Value (yuan)": "金额（元）",
    "Delivered": "已发放",
    "Referrals": "服务转介",
    "Agency": "机构",
    "Service": "服务",
    "Eligibility checks": "资格核查",
    "Recognition": "事实无人抚养儿童认定",
    "Escalations": "督办升级",
    "Placement": "安置",
    "Timeline": "时间线",
    "When": "时间",
    "What": "事件",
    "Who": "操作人",
    "Why": "原因",
    "Rule": "规则",
    "History and moments": "历史与时点回看",
    "Actions": "可办理事项",
    "You can only read this case.": "您只能查看此个案。",
    "Done: {what}.": "已完成：{what}。",
    "Child reported, case opened": "已报告儿童并开案",
    "Assessment recorded": "已记录需求评估",
    "Eligibility check requested": "已申请资格核查",
    "Case plan recorded": "已制定个案计划",
    "Assistance requested": "已申请救助",
    "Assistance delivered": "已记录发放",
    "Referral made": "已发出服务转介",
    "Visit recorded": "已记录探访",
    "Closure proposed": "已申请结案",
    "Case reopened": "已重新开案",
    "Decision recorded": "审批意见已记录",
    "Guardian change proposed": "已提出变更监护人",
    "Transfer proposed": "已提出转移安置",
    "Transfer place recorded": "已记录安置床位情况",
    "Arrival recorded": "已记录儿童转移安置",
    "Recognition applied for": "已申请事实无人抚养儿童认定",
    "Recognition decision recorded": "已记录认定结果",
    "Referral answer recorded": "已记录转介答复",
    "Referral withdrawn": "已撤回转介",
    "School status recorded": "已记录就学情况",
    "Eligibility answer recorded": "已记录资格核查答复",
    "Correction recorded": "已记录事实更正",
    "Record the referral's answer": "记录转介答复",
    "Answer": "答复",
    "Note (a decline says why)": "说明（拒绝须写明原因）",
    "Withdraw the referral": "撤回转介",
    "Withdraw": "撤回",
    "Record the check's answer": "记录资格核查答复",
    "School status": "就学情况",
    "School": "学校",
    "No facts, because": "未提供信息的原因",
    "Apply for de facto orphan recognition": "申请事实无人抚养儿童认定",
    "Civil affairs is asked to recognise the child when the parents' situations qualify.": (
        "父母情况符合条件时，向民政部门申请认定。"
    ),
    "Record civil affairs' decision": "记录民政部门认定结果",
    "Decision": "结果",
    "Monthly allowance (yuan)": "每月基本生活费（元）",
    "Written reasons of a denial, one per line": "未获认定的书面理由（每行一条）",
    "Record school status": "记录就学情况",
    "Checked on": "核查日期",
    "Propose a guardian change": "提出变更监护人",
    "New guardian's name": "新监护人姓名",
    "Propose a transfer": "提出转移安置",
    "Transfer to": "安置去向",
    "Institution or school": "机构或学校名称",
    "Record the place": "记录安置床位情况",
    "Place confirmed": "已落实床位",
    "Place refused": "床位被拒",
    "Place reference, or why there is no place": "床位编号，或无床位的原因",
    "Record the child's arrival": "记录儿童转移安置",
    "Arrived on": "转移安置日期",
    "Correct a recorded fact": "更正已记录的事实",
    "Recorded in": "记录出处",
    "The report": "儿童报告",
    "Guardian change": "变更监护人",
    "Field (e.g. report.child.date_of_birth)": "字段（如 report.child.date_of_birth）",
    "Correct value": "正确的值",
    "The case engine did not accept this": "个案引擎未接受此操作",
    "Details": "详细说明",
    "Record the assessment": "记录评估",
    "Reassess the needs": "重新评估需求",
    "0 none · 1 some · 2 serious · 3 severe": "0 无 · 1 轻度 · 2 较重 · 3 严重",
    "Summary": "评估摘要",
    "Categories found": "评估认定的类别",
    "Record a case plan": "制定个案计划",
    "Revise the case plan": "修订个案计划",
    "Goals, one per line": "目标（每行一项）",
    "Request assistance": "申请救助",
    "Purpose": "用途",
    "Above {n} yuan a supervisor must approve first.": "超过 {n} 元须经督导员审批。",
    "Record a delivery": "记录发放",
    "Delivered on": "发放日期",
    "Record a visit": "记录探访",
    "Visited at": "探访时间",
    "Visit kind": "探访方式",
    "Ask an outside system": "申请资格核查",
    "Check": "核查项目",
    "Propose closing the case": "申请结案",
    "Reason": "原因",
    "Note": "说明",
    "Hand over to (area code)": "移交至（区划代码）",
    "Reopen the case": "重新开案",
    "Send": "提交",
    "Approve": "批准",
    "Reject": "驳回",
    "Comment": "意见",
    "A rejection needs a comment saying why and what to do instead.": (
        "驳回须填写意见，说明原因及替代办法。"
    ),
    "Waiting for a supervisor's decision.": "等待督导员审批。",
    "Your own request: another supervisor decides it.": (
        "这是您本人提出的申请，须由其他督导员审批。"
    ),
    "Requested by": "申请人",
    "Requested": "申请时间",
    "left": "剩余",
    "overdue by": "已超时",
    "escalated": "已升级",
    "emergency": "紧急",
    "Approval": "审批",
    "Deadline": "期限",
    # approvals
    "Approvals inbox": "审批待办",
    "Oldest request first. Each approval escalates when its time runs out.": (
        "按申请时间先后排列。审批超时后自动上报上一级。"
    ),
    "No approvals wait for you.": "暂无待审批事项。",
    "Time left": "剩余时间",
    "What is asked": "申请内容",
    # area overview
    "Cases by status and priority in each township of your area.": (
        "本辖区各乡镇个案的状态与响应等级分布。"
    ),
    "Open cases": "在办个案",
    "Total cases": "个案总数",
    # audit
    "The case as it stood at a moment": "回看某一时点的个案",
    "Moment": "时点",
    "Show": "查看",
    "As it stood at {moment}": "{moment} 时的个案",
    "The case had not been reported yet at that moment.": "该时点个案尚未报告。",
    "What changed between two moments": "两个时点之间的变化",
    "From": "从",
    "To": "到",
    "Compare": "比较",
    "Events recorded in between": "期间记录的事件",
    "Fields that changed": "变化的字段",
    "Field": "字段",
    "Before": "之前",
    "After": "之后",
    "No event was recorded in between.": "期间没有记录事件。",
    "before": "之前",
    "after": "之后",
    "As it stood before this event": "回看此事件之前",
    "As it stood after this event": "回看此事件之后",
    "Times are China Standard Time.": "时间均为北京时间。",
    "Verify the record": "核验记录",
    "Verify this case's record": "核验此个案记录",
    "The record is intact.": "记录完整，未被篡改。",
    "The record has been altered.": "记录已被改动！",
    "Events checked": "已核验事件",
    "Checkpoints checked": "已核验签名检查点",
    "First problem": "首个问题",
    "Checked at": "核验时间",
    "Every event's hash chain and every signed checkpoint of the whole log are recomputed.": (
        "重新计算全部事件的哈希链和所有签名检查点。"
    ),
    "Year": "年度",
    "Download CSV": "下载CSV",
    "Children covered": "覆盖儿童",
    "Person-times of assistance by group": "各类救助人次",
    "Person-times of assistance by kind": "各项救助人次",
    "Other figures": "其他指标",
    "Figure": "指标",
    "Count": "数量",
    "Each figure links to the events behind it.": "每个数字都可链接到其依据的事件。",
    "Figures include the log up to event {n}.": "数据截至事件日志第 {n} 条。",
    "The events behind a figure": "指标依据的事件",
    "Event": "事件",
    "Position": "日志位置",
    "Day": "日期",
    "No events.": "没有事件。",
    "Back to the report": "返回报表",
    # errors (the problems' titles, then what they mean)
    "Not allowed": "无权操作",
    "Case not found": "未找到个案",
    "Form refused": "表单被拒绝",
    "The request is not valid": "请求无效",
    "The case engine is unavailable": "个案引擎不可用",
    "The command does not fit the case as it stands": "此操作与个案当前状态不符",
    "Outside your area": "超出辖区",
    "Unknown village": "未知的村",
    "Unknown figure": "未知指标",
    "Not found": "未找到",
    "Something went wrong": "出错了",
    "Go to my start page": "返回首页",
    "The form has expired or did not come from this site; reload the page and try again.": (
        "表单已过期或并非来自本站，请刷新页面后重试。"
    ),
    "There is nothing at this address.": "此地址没有内容。",
    "The case engine is unavailable; try again in a moment.": "个案引擎暂时不可用，请稍后重试。",
    "Your role cannot do this.": "您的角色无权执行此操作。",
    "This lies outside your area.": "此事项不在您的辖区内。",
    "There is no case with this number that you can see.": "没有您可查看的该编号个案。",
    "You made this request, so another supervisor must decide it.": (
        "这是您本人提出的申请，须由其他督导员审批。"
    ),
    "The case is closed; reopen it first.": "个案已结案，请先重新开案。",
    "The case is open; work on it as it is.": "个案仍在办理中。",
    "Record an assessment first.": "请先记录需求评估。",
    "This was already decided.": "此事项已审批。",
    "It waits for a supervisor's approval.": "此事项正在等待督导员审批。",
    "A closure already waits for a supervisor's decision.": "已有结案申请在等待审批。",
    "More than was requested cannot be delivered.": "发放数量不能超过申请数量。",
    "The date of birth is in the future.": "出生日期晚于今天。",
    "The child is 18 or older.": "儿童已满18周岁。",
    "The date is in the future; record what happened.": "日期晚于现在，请记录已经发生的事。",
    "The village is not in the area tree.": "该村不在区划树中。",
    "Some values are not valid.": "部分内容不符合要求。",
    "The request is still in progress.": "该请求仍在办理中。",
    "The command does not fit the case as it stands.": "此操作与个案当前状态不符。",
}


def translate(language: str, text: str, **values: object) -> str:
    translated = ZH.get(text, text) if language == "zh" else text
    return translated.format(**values) if values else translated


# The domain's terms: group -> value -> (English, Chinese). English defaults to the value with
# spaces for underscores.
TERMS: Final[dict[str, dict[str, tuple[str | None, str]]]] = {
    "role": {
        "caseworker": ("Child welfare director", "儿童主任"),
        "supervisor": ("Supervisor", "督导员"),
        "auditor": ("Auditor", "监察员"),
        "admin": ("Administrator", "系统管理员"),
        "system": ("The case engine", "系统"),
    },
    "status": {
        "reported": ("Reported", "已报告"),
        "assessed": ("Assessed", "已评估"),
        "active": ("Active", "服务中"),
        "pending_closure": ("Closure pending", "待结案"),
        "closed": ("Closed", "已结案"),
    },
    "priority": {
        "immediate": ("Immediate (24 h)", "立即（24小时）"),
        "urgent": ("Urgent (72 h)", "紧急（72小时）"),
        "routine": ("Routine (10 days)", "常规（10天）"),
    },
    "priority_short": {
        "immediate": ("Immediate", "立即"),
        "urgent": ("Urgent", "紧急"),
        "routine": ("Routine", "常规"),
    },
    "risk": {
        "low": ("Low", "低"),
        "moderate": ("Moderate", "中"),
        "high": ("High", "高"),
        "very_high": ("Very high", "极高"),
    },
    "category": {
        "de_facto_orphan": ("De facto orphan", "事实无人抚养儿童"),
        "orphan": ("Orphan", "孤儿"),
        "left_behind": ("Left-behind child", "留守儿童"),
        "in_difficulty": ("Child in difficulty", "困境儿童"),
        "migrant": ("Migrant child", "流动儿童"),
    },
    "concern": {
        "living_alone": ("Living alone", "独自居住"),
        "missing": ("Missing", "失踪"),
        "neglected": ("Neglected", "被忽视"),
        "suspected_violence": ("Suspected violence", "疑似遭受暴力"),
    },
    "sex": {"female": ("Female", "女"), "male": ("Male", "男")},
    "parent_relation": {"father": ("Father", "父亲"), "mother": ("Mother", "母亲")},
    "parent_situation": {
        "present_and_able": ("Present and able to care", "在家且能监护"),
        "working_away": ("Working away", "外出务工"),
        "deceased": ("Deceased", "死亡"),
        "missing": ("Missing, no contact", "失联"),
        "imprisoned": ("Imprisoned", "服刑在押"),
        "drug_rehabilitation": ("Compulsory drug rehabilitation", "强制隔离戒毒"),
        "restricted_liberty": ("Other restriction of liberty", "被执行其他限制人身自由措施"),
        "severe_disability": ("Severe disability", "重残"),
        "serious_illness": ("Serious illness", "重病"),
        "guardianship_revoked": ("Guardianship revoked", "被撤销监护资格"),
        "deported": ("Deported", "被遣送（驱逐）出境"),
        "unknown": ("Unknown", "不详"),
    },
    "disability_kind": {
        "physical": ("Physical", "肢体"),
        "visual": ("Visual", "视力"),
        "hearing": ("Hearing", "听力"),
        "speech": ("Speech", "言语"),
        "intellectual": ("Intellectual", "智力"),
        "mental": ("Mental", "精神"),
        "multiple": ("Multiple", "多重"),
    },
    "source": {
        "caseworker": ("Child welfare director", "儿童主任"),
        "teacher": ("Teacher", "教师"),
        "village_committee": ("Village committee", "村委会"),
        "hotline": ("Hotline", "热线"),
        "outside_system": ("Outside system", "外部系统"),
    },
    "need": {
        "survival": ("Survival (food, clothing, hygiene, bedding)", "生存（衣食、卫生、被褥）"),
        "education": ("Education (enrolment, drop-out risk, fees)", "教育（入学、辍学风险、费用）"),
        "health": ("Health (illness, disability, nutrition)", "健康（疾病、残疾、营养）"),
        "guardianship": ("Guardianship (caregiver capacity)", "监护（照料人能力）"),
        "safety": ("Safety (abuse, neglect, hazards)", "安全（虐待、忽视、危险）"),
        "psychosocial": ("Psychosocial", "心理与社会"),
    },
    "assistance_kind": {
        "food_pack": ("Food pack", "食品包"),
        "hygiene_kit": ("Hygiene kit", "卫生用品包"),
        "winter_clothes": ("Winter clothes", "冬衣"),
        "quilt": ("Quilt", "棉被"),
        "tuition_and_fees": ("Tuition and fees", "学杂费"),
        "school_supplies": ("School supplies", "学习用品"),
        "tuition_waiver": ("Tuition waiver", "学费减免"),
        "living_allowance": ("Monthly living allowance", "基本生活费"),
        "medical_aid": ("Medical aid", "医疗救助"),
        "counselling": ("Mental-health counselling", "心理辅导"),
        "temporary_shelter": ("Temporary shelter", "临时庇护"),
        "companionship_visit": ("Companionship visits", "志愿者陪伴探访"),
        "daily_care": ("Daily care by a caregiver", "委托照料"),
    },
    "assistance_group": {
        "survival": ("Survival", "生活救助"),
        "school": ("School", "助学"),
        "living_allowance": ("Living allowance", "基本生活费"),
        "medical": ("Medical", "医疗"),
        "psychosocial": ("Psychosocial", "心理关爱"),
        "care": ("Care and shelter", "照料与庇护"),
    },
    "assistance_status": {
        "awaiting_approval": ("Awaiting approval", "待审批"),
        "to_deliver": ("To deliver", "待发放"),
        "delivered": ("Delivered", "已发放"),
        "rejected": ("Rejected", "已驳回"),
        "withdrawn": ("Withdrawn", "已撤回"),
    },
    "approval_kind": {
        "guardian_change": ("Guardian change", "变更监护人"),
        "transfer": ("Transfer", "转移安置"),
        "assistance": ("Assistance above the threshold", "超额救助"),
        "closure": ("Closure", "结案"),
        "emergency_placement": ("Emergency placement", "紧急安置"),
    },
    "approval_status": {
        "pending": ("Pending", "待审批"),
        "granted": ("Approved", "已批准"),
        "rejected": ("Rejected", "已驳回"),
        "withdrawn": ("Withdrawn", "已撤回"),
    },
    "level": {
        "township": ("township", "乡镇"),
        "county": ("county", "县"),
        "prefecture": ("prefecture", "市（州）"),
    },
    "referral_status": {
        "requested": ("Requested", "已发送"),
        "accepted": ("Accepted", "已接受"),
        "declined": ("Declined", "已拒绝"),
        "completed": ("Completed", "已完成"),
        "withdrawn": ("Withdrawn", "已撤回"),
    },
    "agency_kind": {
        "civil_affairs": ("Civil affairs", "民政"),
        "school": ("School", "学校"),
        "hospital": ("Hospital", "医院"),
        "ngo": ("Partner NGO", "合作社会组织"),
    },
    "closure_reason": {
        "turned_18": ("Turned 18", "年满18周岁"),
        "parent_returned": ("A parent returned and can care", "父母返回并能监护"),
        "situation_resolved": ("Situation resolved", "困境已解除"),
        "moved_out_of_area": ("Moved out of the area", "迁出本地"),
        "death": ("Death", "死亡"),
    },
    "check_kind": {
        "household_registration": ("Household registration", "户籍信息"),
        "parents_status": ("Parents' status", "父母状况"),
        "school_enrolment": ("School enrolment", "就学情况"),
    },
    "check_status": {
        "requested": ("Waiting for the answer", "等待答复"),
        "answered": ("Answered", "已答复"),
        "failed": ("No answer", "未获答复"),
    },
    "check_failure": {
        "not_found": ("Not found", "未查到"),
        "refused": ("Refused", "被拒绝"),
        "unavailable": ("Unavailable", "系统不可用"),
    },
    "visit_kind": {
        "home": ("Home visit", "入户探访"),
        "school": ("School visit", "到校探访"),
        "phone": ("Phone call", "电话回访"),
    },
    "school_status": {
        "enrolled": ("Enrolled", "在读"),
        "not_enrolled": ("Not enrolled", "未入学"),
        "dropped_out": ("Dropped out", "辍学"),
        "returned": ("Returned to school", "复学"),
    },
    "recognition_status": {
        "applied": ("Applied", "已申请"),
        "verified": ("Verified by the township", "乡镇已核实"),
        "confirmed": ("Confirmed by the county", "县级已确认"),
        "denied": ("Denied", "未获认定"),
    },
    "transfer_status": {
        "proposed": ("Proposed", "已提出"),
        "approved": ("Approved", "已批准"),
        "rejected": ("Rejected", "已驳回"),
        "withdrawn": ("Withdrawn", "已撤回"),
        "place_confirmed": ("Place confirmed", "已落实床位"),
        "place_refused": ("Place refused", "床位被拒"),
        "transferred": ("Transferred", "已转移"),
    },
    "proposal_status": {
        "proposed": ("Proposed", "已提出"),
        "approved": ("Approved", "已批准"),
        "rejected": ("Rejected", "已驳回"),
        "withdrawn": ("Withdrawn", "已撤回"),
        "registered": ("Registered", "已登记"),
    },
    "destination_kind": {
        "institution": ("Child welfare institution", "儿童福利机构"),
        "boarding_school": ("Boarding school", "寄宿制学校"),
    },
    "breach": {
        "assessment_overdue": ("Assessment overdue", "评估逾期"),
        "approval_undecided": ("Approval undecided", "审批超时"),
        "referral_unanswered": ("Referral unanswered", "转介未答复"),
        "visit_missed": ("Visit missed", "探访逾期"),
    },
    "event": {
        "CaseOpened": ("Child reported, case opened", "报告儿童，开案"),
        "PriorityAssigned": ("Priority set by screening", "筛查确定响应等级"),
        "CaseworkerAssigned": ("Caseworker assigned", "指派负责人"),
        "AssessmentRecorded": ("Assessment recorded", "记录需求评估"),
        "AssessmentOverdue": ("Assessment overdue", "评估逾期"),
        "EligibilityCheckRequested": ("Eligibility check requested", "申请资格核查"),
        "EligibilityCheckAnswered": ("Eligibility check answered", "资格核查答复"),
        "RecognitionApplied": ("Recognition applied for", "申请事实无人抚养儿童认定"),
        "RecognitionVerified": ("Recognition verified by the township", "乡镇核实认定申请"),
        "RecognitionConfirmed": ("Recognition confirmed by the county", "县级确认认定"),
        "RecognitionDenied": ("Recognition denied", "认定未通过"),
        "AllowanceStarted": ("Living allowance started", "开始发放基本生活费"),
        "CasePlanRecorded": ("Case plan recorded", "制定个案计划"),
        "AssistanceRequested": ("Assistance requested", "申请救助"),
        "AssistanceApproved": ("Assistance approved", "救助获批"),
        "AssistanceRejected": ("Assistance rejected", "救助被驳回"),
        "AssistanceDelivered": ("Assistance delivered", "发放救助"),
        "ApprovalRequested": ("Approval requested", "提交审批"),
        "ApprovalEscalated": ("Approval escalated", "审批升级"),
        "ApprovalTimedOut": ("Approval timed out", "审批超时"),
        "ApprovalGranted": ("Approved", "审批通过"),
        "ApprovalRejected": ("Rejected", "审批驳回"),
        "ApprovalWithdrawn": ("Approval withdrawn", "撤回审批"),
        "EscalationRaised": ("Escalated to a supervisor", "上报督办"),
        "ReferralRequested": ("Referral made", "发出服务转介"),
        "ReferralAccepted": ("Referral accepted", "转介被接受"),
        "ReferralDeclined": ("Referral declined", "转介被拒绝"),
        "ReferralCompleted": ("Referral completed", "转介完成"),
        "ReferralWithdrawn": ("Referral withdrawn", "撤回转介"),
        "ReferralReminded": ("Referral reminder sent", "转介催办"),
        "GuardianChangeProposed": ("Guardian change proposed", "提出变更监护人"),
        "GuardianChangeRegistered": ("Guardian change registered", "监护人变更登记"),
        "TransferProposed": ("Transfer proposed", "提出转移安置"),
        "TransferPlaceConfirmed": ("Place confirmed", "落实安置床位"),
        "TransferPlaceRefused": ("Place refused", "安置床位被拒"),
        "ChildTransferred": ("Child transferred", "儿童已转移安置"),
        "VisitScheduled": ("Visit scheduled", "安排探访"),
        "VisitRecorded": ("Visit recorded", "记录探访"),
        "VisitMissed": ("Visit missed", "探访逾期"),
        "SchoolStatusChecked": ("School status checked", "核查就学情况"),
        "ClosureProposed": ("Closure proposed", "申请结案"),
        "CaseClosed": ("Case closed", "结案"),
        "CaseReopened": ("Case reopened", "重新开案"),
        "FactCorrected": ("Fact corrected", "更正事实"),
    },
    "figure": {
        "assistance.total": ("All assistance (person-times)", "救助总人次"),
        "guardian_changes_registered": ("Guardian changes registered", "监护人变更登记"),
        "transfers_completed": ("Transfers completed", "完成转移安置"),
        "dropouts_returned_to_school": ("Drop-outs returned to school", "辍学儿童复学"),
        "recognitions_confirmed": ("De facto orphans recognised", "认定事实无人抚养儿童"),
    },
}


def term(language: str, group: str, value: object) -> str:
    """The domain's word for `value` (an enum member or its value) in `language`."""
    if value is None:
        return ""
    key = str(getattr(value, "value", value))
    english, chinese = TERMS.get(group, {}).get(key, (None, None))
    if language == "zh" and chinese:
        return chinese
    return english or key.replace("_", " ")


def figure_label(language: str, figure: str) -> str:
    """A program report figure's name: `children_covered.orphan`, `assistance.kind.quilt`, ..."""
    for prefix, group in (
        ("children_covered.", "category"),
        ("assistance.kind.", "assistance_kind"),
        ("assistance.group.", "assistance_group"),
    ):
        if figure.startswith(prefix):
            return term(language, group, figure.removeprefix(prefix))
    return term(language, "figure", figure)


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """A moment on the program's clock (China Standard Time), as people write it."""
    if value is None:
        return ""
    return value.astimezone(PROGRAM_TIMEZONE).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def duration(language: str, seconds: int) -> str:
    """`seconds` (positive) in days, hours and minutes: "1 d 4 h" / "1天4小时"."""
    minutes = max(seconds, 0) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    units = (("d", "天"), ("h", "小时"), ("min", "分钟"))
    parts = [
        (amount, unit) for amount, unit in zip((days, hours, minutes), units, strict=True) if amount
    ][:2] or [(0, units[2])]
    if language == "zh":
        return "".join(f"{amount}{unit[1]}" for amount, unit in parts)
    return " ".join(f"{amount} {unit[0]}" for amount, unit in parts)


# A refusal's `code` (api.commanding, api.access) in plain words; the problem's detail follows.
PLAIN_WORDS: Final[dict[str, str]] = {
    "role_not_allowed": "Your role cannot do this.",
    "outside_area": "This lies outside your area.",
    "case_not_found": "There is no case with this number that you can see.",
    "own_request": "You made this request, so another supervisor must decide it.",
    "case_closed": "The case is closed; reopen it first.",
    "case_open": "The case is open; work on it as it is.",
    "not_assessed": "Record an assessment first.",
    "not_pending": "This was already decided.",
    "awaiting_approval": "It waits for a supervisor's approval.",
    "closure_pending": "A closure already waits for a supervisor's decision.",
    "over_delivery": "More than was requested cannot be delivered.",
    "over_value": "More than was requested cannot be delivered.",
    "birth_in_future": "The date of birth is in the future.",
    "not_a_child": "The child is 18 or older.",
    "in_future": "The date is in the future; record what happened.",
    "unknown_village": "The village is not in the area tree.",
    "invalid_request": "Some values are not valid.",
    "comment_required": "A rejection needs a comment saying why and what to do instead.",
    "in_progress": "The request is still in progress.",
    "engine_unavailable": "The case engine is unavailable; try again in a moment.",
    "csrf_failed": (
        "The form has expired or did not come from this site; reload the page and try again."
    ),
    "no_page": "There is nothing at this address.",
}
PLAIN_BY_STATUS: Final[dict[int, str]] = {
    403: "Your role cannot do this.",
    404: "There is nothing at this address.",
    409: "The command does not fit the case as it stands.",
    422: "Some values are not valid.",
    503: "The case engine is unavailable; try again in a moment.",
}


def plain_words(code: str | None, status: int) -> str:
    """What a refusal means, in English (translate it with `translate`)."""
    if code is not None and code in PLAIN_WORDS:
        return PLAIN_WORDS[code]
    return PLAIN_BY_STATUS.get(status, "Something went wrong")
