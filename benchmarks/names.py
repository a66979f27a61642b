"""Vietnamese personal and place names for the synthetic national dataset.

Frequencies are rough and illustrative (Nguyễn ≈ 38 % of the population, Trần ≈ 11 %, Lê ≈ 9.5 %…;
"Thị" is the usual middle name of women of the collaborators' generation); the lists of minority
names give each group a plausible shape (Ê Đê "H'Hen Niê", Gia Rai "Ksor H'Bia", H'Mông "Giàng A
Páo", Khmer "Thạch Thị Sa Rinh"), not a census. Everything is drawn from a ``random.Random`` the
caller seeds, so the result is deterministic.
"""

from __future__ import annotations

import random
from itertools import accumulate

# (name, weight): weights are per mille, roughly.
KINH_FAMILY = [
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 21), ("Phan", 45),
    ("Vũ", 20), ("Võ", 19), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13), ("Ngô", 13), ("Dương", 10),
    ("Lý", 5), ("Đinh", 7), ("Đào", 5), ("Trịnh", 4), ("Mai", 4), ("Cao", 4), ("Lương", 4), ("Hà", 5),
    ("Tạ", 2), ("Lâm", 3), ("Thái", 2), ("Châu", 2), ("Tô", 2), ("Kiều", 1), ("Văn", 2), ("Chu", 2),
    ("Nông", 2), ("Triệu", 2), ("Quách", 1), ("La", 1), ("Từ", 1), ("Đoàn", 5), ("Lưu", 3), ("Tăng", 1),
    ("Trương", 5), ("Vương", 2), ("Kim", 1), ("Hứa", 1), ("Phùng", 2), ("Khúc", 1), ("Giang", 1),
]
MIDDLE = {
    "female": [("Thị", 520), ("Ngọc", 70), ("Thu", 50), ("Thanh", 50), ("Kim", 35), ("Mỹ", 25), ("Hồng", 40),
               ("Minh", 20), ("Phương", 15), ("Bích", 15), ("Thùy", 30), ("Diệu", 10), ("Hoài", 15),
               ("Khánh", 10), ("Bảo", 10), ("Thị Thu", 30), ("Thị Thanh", 25), ("Thị Ngọc", 20),
               ("Thị Hồng", 15), ("Ngọc Bảo", 5)],
    "male": [("Văn", 450), ("Đức", 70), ("Minh", 70), ("Quốc", 50), ("Hữu", 50), ("Công", 40), ("Thanh", 40),
             ("Xuân", 30), ("Ngọc", 25), ("Anh", 25), ("Quang", 40), ("Đình", 40), ("Trọng", 30), ("Tấn", 20),
             ("Văn Minh", 10), ("Như", 5)],
}
GIVEN = {
    "female": [
        ("Lan", 40), ("Hoa", 38), ("Hương", 38), ("Mai", 36), ("Hạnh", 30), ("Nga", 28), ("Thảo", 30),
        ("Trang", 30), ("Yến", 25), ("Linh", 28), ("Nhung", 22), ("Hằng", 25), ("Huyền", 24), ("Phương", 22),
        ("Thủy", 26), ("Hà", 24), ("Loan", 18), ("Liên", 18), ("Dung", 20), ("Tuyết", 15), ("Vân", 18),
        ("Oanh", 14), ("Hiền", 22), ("Thu", 16), ("Ngọc", 15), ("Anh", 18), ("Ánh", 12), ("Bích", 10),
        ("Châu", 10), ("Diễm", 8), ("Giang", 14), ("Hồng", 16), ("Hòa", 12), ("Kim", 8), ("Lệ", 8),
        ("Lý", 6), ("My", 8), ("Nguyệt", 8), ("Nhàn", 10), ("Nhi", 8), ("Phượng", 12), ("Quyên", 8),
        ("Sen", 8), ("Tâm", 10), ("Thanh", 12), ("Thắm", 10), ("Thơ", 8), ("Thúy", 14), ("Trinh", 10),
        ("Uyên", 6), ("Xuân", 10), ("Duyên", 10), ("Hậu", 8), ("Huệ", 10), ("Lài", 5), ("Luyến", 5),
        ("Mơ", 5), ("Nụ", 5), ("Gấm", 4), ("Lanh", 4), ("Lành", 4), ("Đào", 6), ("Len", 3), ("Lan Anh", 5),
    ],
    "male": [
        ("Hùng", 30), ("Dũng", 28), ("Tuấn", 28), ("Minh", 25), ("Nam", 22), ("Hải", 22), ("Long", 20),
        ("Sơn", 20), ("Thắng", 18), ("Cường", 18), ("Quang", 14), ("Trung", 16), ("Hòa", 12), ("Bình", 16),
        ("Phúc", 12), ("Tài", 12), ("Thành", 16), ("Tùng", 12), ("Hiếu", 12), ("Huy", 12), ("Khoa", 8),
        ("Đức", 12), ("Hoàng", 10), ("Lâm", 8), ("Lộc", 10), ("Mạnh", 10), ("Nghĩa", 10), ("Phong", 10),
        ("Quân", 10), ("Tâm", 8), ("Thái", 8), ("Thiện", 8), ("Toàn", 8), ("Trí", 8), ("Tú", 8),
        ("Vinh", 10), ("Việt", 8), ("Bảo", 6), ("Chiến", 8), ("Đạt", 10), ("Lân", 4), ("Lanh", 3),
    ],
}

# Minority groups: how their names are built, and their common family names / given names.
# style "kinh": family + middle + given (Tày, Nùng, Thái, Mường, Hoa, Chăm… use this order);
# "hmong": family + (A | Thị) + given; "ede": (H' | Y) + given + family; "jrai": family + (H')given;
# "khmer": family + (Thị) + given.
ETHNIC_NAMES: dict[str, tuple[str, list[str], list[str] | None]] = {
    "Tày": ("kinh", ["Hoàng", "Nông", "Lục", "Bế", "Ma", "Hà", "Vi", "Lương"], None),
    "Nùng": ("kinh", ["Hoàng", "Nông", "Lục", "Vi", "Mã", "Chu", "Lăng"], None),
    "Thái": ("kinh", ["Lò", "Lường", "Quàng", "Cầm", "Hà", "Vi", "Lộc", "Tòng"], None),
    "Mường": ("kinh", ["Bùi", "Đinh", "Quách", "Hà", "Xa", "Cao"], None),
    "Dao": ("kinh", ["Triệu", "Bàn", "Đặng", "Lý", "Phùng", "Chảo"], None),
    "Giáy": ("kinh", ["Lù", "Sần", "Hoàng", "Vương"], None),
    "Khơ Mú": ("kinh", ["Lò", "Vi", "Lầu", "Cụt"], None),
    "Hoa": ("kinh", ["Lý", "Trương", "Quách", "Lưu", "Tăng", "Mã", "Diệp", "Hứa", "Lâm"], None),
    "Chăm": ("kinh", ["Đàng", "Thuận", "Lộ", "Quảng", "Châu", "Trượng", "Thành"], None),
    "Sán Dìu": ("kinh", ["Lưu", "Trần", "Diệp", "Lê"], None),
    "Bru-Vân Kiều": ("kinh", ["Hồ", "Lê", "Hồ Văn", "Pả"], None),
    "Pa Kô": ("kinh", ["Hồ", "Kăn", "Pả", "Căn"], None),
    "Tà Ôi": ("kinh", ["Hồ", "Kăn", "Lê", "A Viết"], None),
    "Cơ Tu": ("kinh", ["Bríu", "Alăng", "Pơloong", "Bhling", "Zơrâm"], None),
    "Hrê": ("kinh", ["Đinh", "Phạm", "Đinh Thị"], None),
    "Raglai": ("kinh", ["Mấu", "Pi Năng", "Chamaléa", "Katơr"], None),
    "H'Mông": ("hmong", ["Giàng", "Sùng", "Vàng", "Thào", "Lý", "Mùa", "Hờ", "Lầu"],
               ["Páo", "Sử", "Chư", "Dình", "Mua", "Pàng", "Dế", "Chá", "Súa", "Mai", "Dua", "Lầu", "Chua", "Sùng"]),
    "Ê Đê": ("ede", ["Niê", "Êban", "Ayun", "Mlô", "Byă", "Knul", "Êñuôl", "Adrơng"],
             ["Hen", "Bia", "Yên", "Khuê", "Nhi", "Loan", "Moan", "Thoan", "Blao", "Kŏ", "Djuê", "Ly", "Hoa"]),
    "M'Nông": ("ede", ["Điểu", "Thị", "Bon Jốc", "Lơ Mu"], ["Sré", "Kliêng", "Mai", "Thoi", "Dung", "Bré", "Lơn"]),
    "Gia Rai": ("jrai", ["Ksor", "Siu", "Rơ Châm", "Rơ Mah", "Kpă", "Nay", "Rah Lan", "Puih"],
                ["Bia", "Nhi", "Thu", "Kroa", "Tình", "Blơ", "Lang", "Hyơn", "Phơ", "Djuin", "Ngơi"]),
    "Ba Na": ("jrai", ["Đinh", "A", "Y", "Đinh Thị"], ["Nhong", "Blơn", "Hyưn", "Wơn", "Thơ", "Chuông", "Rưi"]),
    "Xơ Đăng": ("jrai", ["A", "Y", "Hồ", "Đinh"], ["Rơi", "Thiên", "Lanh", "Hiên", "Nhung", "Đôn"]),
    "Cơ Ho": ("jrai", ["K'", "Ka", "Kră Jăn", "Liêng Hót"], ["Brơi", "Điệp", "Sor", "Hương", "Thu", "Bình"]),
    "Mạ": ("jrai", ["K'", "Điểu", "Ka"], ["Bê", "Lết", "Sơn", "Mai", "Thoa"]),
    "S'tiêng": ("jrai", ["Điểu", "Thị"], ["Mai", "Bích", "Huệ", "Sa", "Sên", "Rinh", "Hiên", "Bé", "Ruộng", "Điệp"]),
    "Chơro": ("jrai", ["Điểu", "Thị"], ["Khiêm", "Hoa", "Mỹ", "Hưng"]),
    "Khmer": ("khmer", ["Thạch", "Danh", "Sơn", "Kim", "Lâm", "Châu", "Lý", "Trần", "Huỳnh"],
              ["Sa Rinh", "Sô Phi", "Sóc", "Phol", "Chanh", "Thươl", "Kha", "Sang", "Sết", "Ny", "Sa Rươn",
               "Sa Vươn", "Chăn Thu", "Pho", "Ngọc Điệp", "Mết"]),
}

# Groups living in each province (province code → groups), for the ethnic-minority hamlets.
PROVINCE_GROUPS: dict[str, list[str]] = {
    "04": ["Tày", "Nùng", "Dao", "H'Mông"], "08": ["Tày", "Dao", "H'Mông", "Nùng"],
    "11": ["Thái", "H'Mông", "Khơ Mú", "Dao"], "12": ["Thái", "H'Mông", "Dao", "Giáy"],
    "14": ["Thái", "H'Mông", "Mường", "Dao"], "15": ["H'Mông", "Dao", "Tày", "Giáy"],
    "19": ["Tày", "Nùng", "Dao", "Sán Dìu"], "20": ["Nùng", "Tày", "Dao"], "22": ["Dao", "Tày", "Sán Dìu"],
    "24": ["Nùng", "Tày", "Sán Dìu"], "25": ["Mường", "Dao", "Tày"], "38": ["Mường", "Thái", "H'Mông"],
    "40": ["Thái", "Khơ Mú", "H'Mông"], "42": ["Mường", "Chăm"], "44": ["Bru-Vân Kiều", "Pa Kô", "Tà Ôi"],
    "46": ["Tà Ôi", "Pa Kô", "Cơ Tu"], "48": ["Cơ Tu", "Xơ Đăng"], "51": ["Hrê", "Xơ Đăng", "Ba Na"],
    "52": ["Gia Rai", "Ba Na"], "56": ["Raglai", "Chăm"], "66": ["Ê Đê", "Gia Rai", "M'Nông"],
    "68": ["Cơ Ho", "M'Nông", "Mạ", "Chăm"], "75": ["S'tiêng", "Chơro", "Mạ", "Khmer"],
    "79": ["Hoa", "Khmer", "Chăm"], "80": ["Khmer", "Chăm", "Hoa"], "82": ["Khmer", "Hoa"],
    "86": ["Khmer", "Hoa"], "91": ["Khmer", "Chăm", "Hoa"], "92": ["Khmer", "Hoa"], "96": ["Khmer", "Hoa"],
}
DEFAULT_GROUPS = ["Mường", "Dao", "Hoa", "Tày"]

# Words for named hamlets ("Thôn Tân Lập", "Ấp Phú Hòa"); the rest are numbered ("Tổ dân phố 7").
PLACE_WORDS = [
    "Tân Lập", "Tân Hòa", "Tân Phú", "Tân Thành", "Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ",
    "Hòa Bình", "Thống Nhất", "Quyết Thắng", "Quyết Tiến", "Đoàn Kết", "Phú Lợi", "Phú Hòa", "Phú Thịnh",
    "An Lạc", "An Bình", "An Phú", "Bình An", "Bình Minh", "Đồng Tâm", "Hưng Thịnh", "Liên Hiệp", "Mỹ Lộc",
    "Phước Hòa", "Thanh Bình", "Thịnh Vượng", "Trung Tâm", "Xuân Lộc", "Vĩnh Phúc", "Chiến Thắng",
    "Đồng Xuân", "Gò Mít", "Bàu Sen", "Cây Da", "Suối Cát", "Bến Đò", "Rạch Già", "Kênh Giữa", "Làng Mới",
    "Làng Chài", "Đồi Thông", "Bãi Sậy", "Cầu Đá", "Núi Một", "Ninh Hòa",
]


class WeightedChoice:
    """Fast repeated weighted choice from a fixed list of (value, weight)."""

    def __init__(self, pairs: list[tuple[str, int]]):
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum)[0]


_FAMILY = WeightedChoice(KINH_FAMILY)
_MIDDLE = {sex: WeightedChoice(pairs) for sex, pairs in MIDDLE.items()}
_GIVEN = {sex: WeightedChoice(pairs) for sex, pairs in GIVEN.items()}


def person_name(rng: random.Random, sex: str, ethnicity: str = "Kinh") -> str:
    """A full name with diacritics for a person of ``sex`` ("female"/"male") and ``ethnicity``."""
    style, families, given_names = ETHNIC_NAMES.get(ethnicity, ("kinh", None, None))
    female = sex == "female"
    if style == "kinh":
        family = rng.choice(families) if families else _FAMILY(rng)
        return f"{family} {_MIDDLE[sex](rng)} {_GIVEN[sex](rng)}"
    family = rng.choice(families)
    given = rng.choice(given_names)
    if style == "hmong":
        return f"{family} {'Thị' if female else 'A'} {given}"
    if style == "ede":
        return f"H'{given} {family}" if female else f"Y {given} {family}"
    if style == "jrai":
        return f"{family} H'{given}" if female and rng.random() < 0.6 else f"{family} {given}"
    # khmer
    return f"{family} Thị {given}" if female and rng.random() < 0.5 else f"{family} {given}"
