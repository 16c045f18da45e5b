"""Does an organisation name look like a company's? Used for model ORGs the KB does not know.

The statistical model tags companies, universities, ministries and teams alike as ORG. A name that
ends in a legal form or a business noun (有限公司, 集团, 银行, 证券, 科技 …) is very likely a company;
one that ends in 大学, 委员会, 部, 局, 法院 … is not. Measured on CLUENER and CFSC-NER (see
docs/benchmarks.md), this keeps most of the model's company recall at a fraction of its noise.
"""

from __future__ import annotations

import re

COMPANY_ENDINGS = (
    "公司", "集团", "控股", "股份", "银行", "证券", "保险", "基金", "资本", "投资", "信托", "期货", "科技", "技术",
    "网络", "电子", "电器", "通信", "汽车", "航空", "地产", "置业", "药业", "制药", "医药", "能源", "石油", "石化",
    "电力", "钢铁", "实业", "传媒", "影业", "娱乐", "文化", "食品", "饮料", "酒业", "物流", "快递", "超市", "商城",
    "百货", "酒店", "电信", "移动", "联通", "软件", "半导体", "微电子", "光电", "新能源", "工业", "重工", "机械",
    "材料", "化工", "矿业", "建设", "建工", "环保",
    "Inc", "Inc.", "Ltd", "Ltd.", "Corp", "Corp.", "Group",
)
NOT_COMPANY_ENDINGS = (
    "大学", "学院", "学校", "中学", "小学", "研究院", "研究所", "研究中心", "委员会", "管理局", "监管局",
    "总局", "政府",
    "法院", "检察院", "部", "局", "厅", "署", "办", "协会", "学会", "联合会", "商会", "基金会", "医院", "党", "军",
    "队", "俱乐部", "人民银行", "中央银行", "央行", "世界银行", "交易所",
)
_LATIN_LEGAL = re.compile(r"\b(inc|ltd|corp|co|llc|plc|gmbh|ag|sa)\.?$", re.IGNORECASE)


def looks_like_non_company(name: str) -> bool:
    name = name.strip()
    return len(name) < 2 or any(name.endswith(s) for s in NOT_COMPANY_ENDINGS)


def looks_like_company(name: str) -> bool:
    name = name.strip()
    if looks_like_non_company(name):
        return False
    return any(name.endswith(s) for s in COMPANY_ENDINGS) or bool(_LATIN_LEGAL.search(name))
