# ruff: noqa: RUF001  (Cyrillic and Greek words whose letters look like Latin ones)
"""Prompt-injection rules in more languages, built from one vocabulary table per language (the
ten of ``injection_rules.py`` have hand-written rules; these add their "repeat verbatim" and
role-play wordings): an instruction set aside (a verb and instructions, in either order, stronger
with "previous" or "all" beside them), the system prompt asked for, and a persona without limits.

Words in Latin, Greek, Cyrillic and Hebrew letters start at a word boundary; in Indic, Thai and
Arabic scripts they are matched as written (a vowel sign is not a word character there, so
``\\b`` would cut words apart). The vocabulary is deliberately of whole phrases
(``ignore ... instructions``, not ``instructions``), so a language's everyday text does not match.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from sluice.guardrails.injection_rules import RULES as _OWN_RULES
from sluice.guardrails.injection_rules import Category, Rule, rule, stem_key


class Vocabulary(NamedTuple):
    ignore: tuple[str, ...]  # "ignore", "forget", "do not follow"
    instructions: tuple[str, ...]  # "instructions", "rules", "prompt"
    previous: tuple[str, ...]  # "previous", "all", "above", "system"
    show: tuple[str, ...]  # "show", "print", "repeat", "tell me"
    system_prompt: tuple[str, ...]  # "system prompt", "your instructions", "verbatim", "the text above"
    no_limits: tuple[str, ...]  # "without restrictions", "no rules", "uncensored"
    persona: tuple[str, ...]  # "you are now", "pretend", "act as", "from now on"


def _v(*fields: str) -> Vocabulary:
    """Each field as "|"-separated phrases, as the normaliser leaves text: NFKC (Thai's sara am
    is two characters then), lower case, zero-width non-joiners dropped."""
    return Vocabulary(
        *(
            tuple(
                unicodedata.normalize("NFKC", p.strip()).lower().replace("\u200c", "")
                for p in f.split("|")
                if p.strip()
            )
            for f in fields
        )
    )


VOCABULARY: dict[str, Vocabulary] = {
    "hi": _v(
        "अनदेखा कर|नज़रअंदाज़ कर|नजरअंदाज कर|नज़रअंदाज कर|भूल जा|उपेक्षा कर|मत मानो|मत मानें|पालन मत कर|पालन न कर|अनसुना कर",
        "निर्देश|नियम|हिदायत|आदेश|प्रॉम्प्ट|प्रोम्प्ट",
        "पिछले|पिछली|पहले के|सभी|सारे|सारी|ऊपर|मूल|सिस्टम",
        "दिखाओ|दिखाइए|दिखाएं|दिखा दो|बताओ|बताइए|बताएं|बता दो|प्रिंट कर|दोहराओ|दोहराइए|दोहराएं|लिखो|लिखिए|प्रकट कर",
        "सिस्टम प्रॉम्प्ट|सिस्टम प्रोम्प्ट|सिस्टम संदेश|सिस्टम निर्देश|अपने निर्देश|अपने मूल निर्देश|प्रारंभिक निर्देश|छिपे हुए निर्देश|शब्दशः|शब्द दर शब्द|ऊपर का पाठ|ऊपर लिखा",
        "बिना किसी प्रतिबंध|बिना प्रतिबंध|बिना किसी सीमा|कोई प्रतिबंध नहीं|कोई नियम नहीं|बिना किसी नियम|बिना नियम|बिना फ़िल्टर|बिना फिल्टर|बिना सेंसर|अप्रतिबंधित",
        "तुम अब|आप अब|अब से तुम|अब से आप|की तरह व्यवहार|होने का नाटक|नाटक करो|बनकर|की भूमिका",
    ),
    "bn": _v(
        "উপেক্ষা কর|অগ্রাহ্য কর|ভুলে যাও|ভুলে যান|মেনো না|মানবেন না|অনুসরণ কোরো না|অনুসরণ করবেন না|পাত্তা দিও না",
        "নির্দেশ|নিয়ম|প্রম্পট|আদেশ",
        "আগের|পূর্ববর্তী|সমস্ত|সব|উপরের|মূল|সিস্টেম",
        "দেখাও|দেখান|বলো|বলুন|প্রিন্ট কর|পুনরাবৃত্তি কর|লেখো|লিখুন|প্রকাশ কর|ফাঁস কর",
        "সিস্টেম প্রম্পট|সিস্টেম বার্তা|সিস্টেম নির্দেশ|তোমার নির্দেশ|আপনার নির্দেশ|মূল নির্দেশ|প্রাথমিক নির্দেশ|হুবহু|উপরের লেখা",
        "কোনো সীমাবদ্ধতা ছাড়া|সীমাবদ্ধতা ছাড়া|কোনো নিয়ম ছাড়া|নিয়ম ছাড়া|কোনো বিধিনিষেধ|বিধিনিষেধ ছাড়া|সেন্সর ছাড়া|ফিল্টার ছাড়া|কোনো সীমা নেই",
        "তুমি এখন|আপনি এখন|এখন থেকে তুমি|এখন থেকে আপনি|ভান কর|অভিনয় কর|হিসেবে কাজ কর|ভূমিকায়",
    ),
    "id": _v(  # Indonesian and Malay
        "abaikan|lupakan|jangan ikuti|jangan patuhi|hiraukan|acuhkan|jangan hiraukan|tinggalkan|buang|jangan pedulikan",
        "instruksi|perintah|arahan|aturan|peraturan|petunjuk|prompt|sekatan",
        "sebelumnya|semua|seluruh|di atas|awal|asli|sistem|terdahulu",
        "tampilkan|tunjukkan|perlihatkan|sebutkan|beritahu|beri tahu|ulangi|cetak|tuliskan|ungkapkan|bocorkan|paparkan|nyatakan",
        "prompt sistem|pesan sistem|instruksi sistem|instruksi awal|instruksi asli|instruksimu|instruksi anda|instruksi kamu|arahan sistem|arahan anda|kata demi kata|kata per kata|teks di atas",
        "tanpa batasan|tanpa aturan|tanpa filter|tanpa sensor|tidak ada batasan|tanpa batas apa pun|bebas dari aturan|tanpa had|tanpa sekatan|tanpa peraturan",
        "kamu sekarang|anda sekarang|mulai sekarang|berpura-pura|berperan sebagai|bertindak sebagai|jadilah|kamu adalah|anda adalah|berlakon",
    ),
    "vi": _v(
        "bỏ qua|phớt lờ|quên đi|quên hết|quên mọi|lờ đi|không tuân theo|đừng tuân theo|đừng làm theo|bỏ hết|gạt bỏ",
        "hướng dẫn|chỉ dẫn|chỉ thị|quy tắc|mệnh lệnh|lời nhắc|prompt|quy định",
        "trước đó|trước đây|trước|ban đầu|ở trên|phía trên|tất cả|mọi|hệ thống|cũ",
        "hiển thị|cho tôi xem|cho xem|in ra|nhắc lại|lặp lại|tiết lộ|cho biết|viết ra|xuất ra|nói cho tôi",
        "lời nhắc hệ thống|prompt hệ thống|thông điệp hệ thống|chỉ dẫn hệ thống|hướng dẫn hệ thống|hướng dẫn ban đầu|chỉ dẫn ban đầu|hướng dẫn của bạn|chỉ thị của bạn|nguyên văn|từng chữ|văn bản ở trên",
        "không có giới hạn|không giới hạn|không bị giới hạn|không có quy tắc|không có bộ lọc|không kiểm duyệt|không bị ràng buộc|không có hạn chế|không hạn chế",
        "bạn bây giờ|bây giờ bạn|từ giờ bạn|từ bây giờ|hãy đóng vai|đóng vai|giả vờ|hãy là|hãy hành động như",
    ),
    "th": _v(
        "เพิกเฉย|ไม่ต้องสนใจ|ละเว้น|ลืม|ไม่ต้องทำตาม|อย่าทำตาม|มองข้าม",
        "คำสั่ง|คำแนะนำ|กฎ|ข้อกำหนด|พรอมต์|พรอมท์",
        "ก่อนหน้า|ทั้งหมด|เดิม|ข้างต้น|ระบบ",
        "แสดง|บอก|พิมพ์|ทวนซ้ำ|ทำซ้ำ|เปิดเผย|เขียน",
        "พรอมต์ระบบ|พรอมท์ระบบ|ข้อความระบบ|คำสั่งระบบ|คำสั่งของคุณ|คำสั่งเริ่มต้น|คำต่อคำ|ข้อความข้างต้น",
        "ไม่มีข้อจำกัด|ไร้ข้อจำกัด|ไม่มีกฎ|ไม่มีการเซ็นเซอร์|ไม่มีตัวกรอง|ไม่ถูกจำกัด",
        "ตอนนี้คุณ|คุณคือ|แกล้งทำเป็น|สวมบทบาท|ทำตัวเป็น|จากนี้ไป|คุณเป็น",
    ),
    "tr": _v(
        "görmezden gel|yok say|unut|dikkate alma|uyma|göz ardı et|boş ver|umursama|önemseme|takma",
        "talimat|yönerge|kural|komut|istem|prompt|direktif",
        "önceki|yukarıdaki|tüm|bütün|eski|ilk|sistem|daha önce",
        "göster|yazdır|söyle|tekrarla|açıkla|yaz|paylaş|ifşa et|ver",
        "sistem istem|sistem prompt|sistem mesaj|sistem talimat|talimatlarını|ilk talimat|orijinal talimat|gizli talimat|kelimesi kelimesine|aynen|yukarıdaki metni",
        "kısıtlama olmadan|kısıtlamasız|hiçbir kısıtlama|kuralsız|hiçbir kural|filtresiz|sansürsüz|sınırlama olmadan|hiçbir sınır",
        "artık sen|sen artık|bundan sonra|gibi davran|rol yap|olduğunu hayal et|rolüne bürün|taklit et|olduğunu varsay",
    ),
    "pl": _v(
        "zignoruj|ignoruj|zapomnij|pomiń|nie przestrzegaj|nie stosuj się|porzuć|odrzuć|zlekceważ|lekceważ",
        "instrukcj|polece|zasad|reguł|wytyczn|prompt",
        "poprzedni|wcześniejsz|wszystkie|wszystkich|powyższ|system|dotychczasow",
        "pokaż|wyświetl|wypisz|powtórz|podaj|ujawnij|napisz|wydrukuj|zdradź|przytocz",
        "prompt systemow|komunikat systemow|wiadomość systemow|instrukcje systemow|swoje instrukcje|twoje instrukcje|początkowe instrukcje|oryginalne instrukcje|ukryte instrukcje|słowo w słowo|dosłownie|tekst powyżej",
        "bez ograniczeń|bez żadnych ograniczeń|bez zasad|bez filtrów|bez cenzury|bez reguł|nieograniczon|żadnych zasad",
        "jesteś teraz|teraz jesteś|od teraz|udawaj|wciel się|zachowuj się jak|działaj jako|odgrywaj rolę",
    ),
    "nl": _v(
        "negeer|vergeet|volg niet|niet meer volgen|laat varen|schenk geen aandacht aan|houd je niet aan|let niet op",
        "instructies|instructie|regels|richtlijnen|opdrachten|aanwijzingen|prompt|bevelen",
        "vorige|eerdere|alle|bovenstaande|voorgaande|oorspronkelijke|systeem",
        "toon|laat zien|geef|herhaal|print|schrijf|onthul|vertel|citeer",
        "systeemprompt|systeembericht|systeeminstructies|je instructies|jouw instructies|uw instructies|oorspronkelijke instructies|verborgen instructies|woord voor woord|letterlijk|tekst hierboven",
        "zonder beperkingen|zonder regels|zonder filters|zonder censuur|geen beperkingen|geen regels|onbeperkt|ongefilterd|ongecensureerd",
        "je bent nu|jij bent nu|vanaf nu|doe alsof|speel de rol|gedraag je als|fungeer als|stel je voor dat je|u bent nu",
    ),
    "sv": _v(  # Swedish, Danish and Norwegian
        "ignorera|glöm|bortse från|strunta i|följ inte|sluta följa|åsidosätt|bry dig inte om|ignorer|glem|se bort fra|følg ikke|følg ikkje",
        "instruktioner|instruktionerna|instruksjoner|instruksjonene|regler|reglerna|reglene|reglerne|riktlinjer|retningslinjer|direktiv|prompt|anvisningar",
        "tidigare|tidligere|alla|alle|föregående|ovanstående|ovenstående|ursprungliga|opprinnelige|system",
        "visa|vis|skriv ut|upprepa|gjenta|gentag|berätta|fortæl|fortell|avslöja|avslør|afslør|återge|skriv|ge mig|giv mig|gi meg",
        "systemprompt|systemmeddelande|systemmelding|systembesked|systeminstruktioner|dina instruktioner|dine instruksjoner|dine instruktioner|ursprungliga instruktioner|dolda instruktioner|ord för ord|ord for ord|ordagrant|ordrett|texten ovan|teksten ovenfor",
        "utan begränsningar|uten begrensninger|uden begrænsninger|utan regler|uten regler|uden regler|utan filter|uten filter|utan censur|uten sensur|uden censur|inga begränsningar|ingen begrensninger|ingen begrænsninger|obegränsad|ofiltrerad|ocensurerad|usensurert|ucensureret",
        "du är nu|du er nå|du er nu|från och med nu|fra nå av|fra nu af|låtsas|lat som|lad som|spela rollen|spill rollen|agera som|bete dig som|oppfør deg som|opfør dig som",
    ),
    "uk": _v(
        "ігноруй|проігноруй|ігноруйте|забудь|забудьте|не зважай|не виконуй|не дотримуйся|відкинь",
        "інструкці|вказівк|правил|команд|промпт|настанов",
        "попередн|усі|всі|вищенаведен|системн|початков",
        "покажи|виведи|повтори|розкрий|напиши|скажи|надрукуй|процитуй",
        "системний промпт|системного промпт|системне повідомлен|системні інструкці|свої інструкції|твої інструкції|початкові інструкції|дослівно|слово в слово|текст вище",
        "без обмежень|без правил|без фільтрів|без цензури|жодних обмежень|жодних правил",
        "тепер ти|ти тепер|віднині|відтепер|уяви що ти|уяви, що ти|прикинься|грай роль|поводься як",
    ),
    "fa": _v(
        "نادیده بگیر|فراموش کن|فراموش کنید|اعتنا نکن|پیروی نکن|پیروی نکنید|کنار بگذار|توجه نکن|توجه نکنید",
        "دستورالعمل|دستورات|دستور|قوانین|قواعد|رهنمود|پرامپت",
        "قبلی|پیشین|همه|تمام|بالا|سیستم|اولیه",
        "نشان بده|نشان دهید|بگو|بگویید|چاپ کن|تکرار کن|بنویس|فاش کن|افشا کن",
        "پرامپت سیستم|پیام سیستم|دستورالعمل سیستم|دستورات سیستم|دستورالعملهای خود|دستورالعمل های اولیه|دستورات اولیه|کلمه به کلمه|عینا|عیناً|متن بالا",
        "بدون محدودیت|بدون هیچ محدودیتی|بدون قانون|بدون فیلتر|بدون سانسور|هیچ محدودیتی|بیمحدودیت",
        "تو اکنون|تو الان|از این به بعد|از حالا|وانمود کن|نقش|رفتار کن",
    ),
    "ur": _v(
        "نظرانداز کر|نظر انداز کر|بھول جاؤ|بھول جائیں|مت مانو|عمل نہ کر",
        "ہدایات|ہدایت|قواعد|اصول|احکامات|پرامپٹ",
        "پچھلی|پچھلے|تمام|سب|اوپر|سسٹم|ابتدائی",
        "دکھاؤ|دکھائیں|بتاؤ|بتائیں|دہراؤ|لکھو",
        "سسٹم پرامپٹ|سسٹم پیغام|اپنی ہدایات|ابتدائی ہدایات|لفظ بہ لفظ",
        "بغیر کسی پابندی|بغیر پابندی|کوئی پابندی نہیں|بغیر کسی حد|بغیر فلٹر",
        "تم اب|آپ اب|اب سے تم|ایسا ظاہر کرو|کا کردار",
    ),
    "ar": _v(
        "تجاهل|تجاهلي|انس|انسى|لا تتبع|لا تلتزم|تخط|تخطى",
        "التعليمات|تعليمات|الأوامر|أوامر|القواعد|قواعد|الإرشادات|إرشادات|موجه",
        "السابقة|جميع|كل|أعلاه|الأصلية|النظام",
        "اعرض|أظهر|اطبع|كرر|أخبرني|اكشف|اكتب",
        "موجه النظام|رسالة النظام|تعليمات النظام|تعليماتك|التعليمات الأصلية|حرفيا|حرفياً|كلمة بكلمة|النص أعلاه",
        "بدون قيود|بلا قيود|دون قيود|بدون قواعد|بدون رقابة|بدون فلتر|بلا حدود",
        "أنت الآن|من الآن فصاعدا|تظاهر|تقمص دور|العب دور|تصرف ك",
    ),
    "he": _v(
        "התעלם|תתעלם|התעלמי|שכח|תשכח|שכחי|אל תציית|אל תפעל לפי|בטל",
        "הוראות|ההוראות|להוראות|מההוראות|כללים|הכללים|מהכללים|הנחיות|ההנחיות|מההנחיות|פרומפט|הפרומפט|פקודות",
        "קודמות|הקודמות|הקודמים|כל|לעיל|המקוריות|המערכת",
        "הצג|תציג|הראה|תראה|חזור על|תחזור על|הדפס|כתוב|גלה|ספר לי|תגיד",
        "פרומפט המערכת|הנחיית המערכת|הנחיות המערכת|הודעת המערכת|הוראות המערכת|ההוראות שלך|ההנחיות שלך|ההוראות המקוריות|מילה במילה|הטקסט למעלה",
        "ללא הגבלות|בלי הגבלות|ללא מגבלות|בלי מגבלות|ללא כללים|בלי כללים|ללא סינון|ללא צנזורה|אין לך מגבלות",
        "אתה עכשיו|את עכשיו|מעכשיו|מעתה|העמד פנים|תעמיד פנים|שחק את התפקיד|התנהג כמו",
    ),
    "sw": _v(
        "puuza|puuzia|sahau|usifuate|acha kufuata|usizingatie|tupilia mbali",
        "maagizo|maelekezo|sheria|kanuni|amri|prompt",
        "yote|zote|ya awali|za awali|zilizopita|yaliyopita|ya mfumo|ya juu",
        "onyesha|nionyeshe|niambie|rudia|chapisha|andika|fichua|toa",
        "maagizo ya mfumo|ujumbe wa mfumo|prompt ya mfumo|maagizo yako|maelekezo yako|maagizo ya awali|neno kwa neno|maandishi ya juu",
        "bila vikwazo|bila mipaka|bila sheria|bila kikomo|bila udhibiti|bila kichujio|hakuna vikwazo|hakuna sheria",
        "sasa wewe ni|wewe sasa ni|kuanzia sasa|jifanye|igiza|cheza nafasi|tenda kama",
    ),
    "tl": _v(
        "huwag pansinin|wag pansinin|balewalain|kalimutan|huwag sundin|wag sundin|ipagwalang-bahala|isantabi",
        "tagubilin|instruksyon|panuto|utos|patakaran|alituntunin|prompt",
        "nakaraan|naunang|lahat|nauna|sa itaas|orihinal|system",
        "ipakita|sabihin|ulitin|isulat|ibunyag|i-print|ilabas",
        "system prompt|mensahe ng system|iyong mga tagubilin|mga tagubilin mo|orihinal na tagubilin|salita por salita|teksto sa itaas",
        "walang limitasyon|walang mga patakaran|walang patakaran|walang filter|walang censorship|walang paghihigpit|walang hangganan",
        "ikaw ngayon ay|ikaw na ngayon|mula ngayon|magpanggap|gumanap bilang|kumilos bilang",
    ),
    "cs": _v(
        "ignoruj|ignorujte|zapomeň|zapomeňte|nedbej|neřiď se|přestaň dodržovat",
        "instrukc|pokyn|pravidl|příkaz|prompt",
        "předchozí|všechny|všechno|původní|výše|systém",
        "ukaž|zobraz|vypiš|zopakuj|prozraď|napiš|řekni",
        "systémový prompt|systémovou zprávu|systémové pokyny|své pokyny|tvé pokyny|původní pokyny|slovo od slova|doslova",
        "bez omezení|bez pravidel|bez filtrů|bez cenzury|žádná omezení|žádná pravidla",
        "nyní jsi|teď jsi|od teď|od nynějška|předstírej|hraj roli|chovej se jako",
    ),
    "ro": _v(
        "ignoră|ignorați|uită|uitați|nu respecta|nu urma|nu mai urma",
        "instrucțiuni|instructiuni|reguli|regulile|indicații|comenzi|prompt",
        "anterioare|toate|precedente|de mai sus|inițiale|sistem",
        "arată|afișează|repetă|spune|dezvăluie|scrie|tipărește",
        "promptul de sistem|prompt de sistem|mesajul de sistem|instrucțiunile tale|instrucțiunile inițiale|cuvânt cu cuvânt|textul de mai sus",
        "fără restricții|fara restrictii|fără reguli|fără limite|fără filtre|fără cenzură",
        "acum ești|de acum înainte|prefă-te|joacă rolul|comportă-te ca|ești acum",
    ),
    "el": _v(
        "αγνόησε|αγνοήστε|ξέχασε|ξεχάστε|μην ακολουθείς|μην ακολουθήσεις|παράβλεψε",
        "οδηγίες|οδηγιών|κανόνες|κανόνων|εντολές|prompt",
        "προηγούμενες|προηγούμενους|όλες|όλους|παραπάνω|αρχικές|συστήματος",
        "δείξε|εμφάνισε|επανάλαβε|πες μου|αποκάλυψε|γράψε|τύπωσε",
        "prompt συστήματος|μήνυμα συστήματος|οδηγίες συστήματος|τις οδηγίες σου|αρχικές οδηγίες|λέξη προς λέξη|κατά λέξη|κείμενο παραπάνω",
        "χωρίς περιορισμούς|χωρίς κανόνες|χωρίς φίλτρα|χωρίς λογοκρισία|κανένας περιορισμός",
        "τώρα είσαι|είσαι τώρα|από τώρα|προσποιήσου|παίξε το ρόλο|συμπεριφέρσου σαν",
    ),
    "hu": _v(
        "hagyd figyelmen kívül|figyelmen kívül|felejtsd el|ne kövesd|ne vedd figyelembe",
        "utasítás|szabály|előírás|prompt",
        "korábbi|előző|összes|minden|fenti|eredeti|rendszer",
        "mutasd|írd ki|ismételd|áruld el|add meg|fedd fel|írd le",
        "rendszerprompt|rendszerüzenet|rendszerutasítás|az utasításaidat|eredeti utasítás|szó szerint|fenti szöveg",
        "korlátozások nélkül|korlátok nélkül|szabályok nélkül|szűrők nélkül|cenzúra nélkül|korlátlan",
        "mostantól|most te vagy|tegyél úgy|játszd el|viselkedj úgy|te most",
    ),
    "fi": _v(
        "ohita|unohda|älä noudata|jätä huomiotta|sivuuta",
        "ohjeet|ohjeita|ohjeesi|ohjeen|ohje|säännöt|sääntöjä|käsky|kehote|prompt",
        "aiemmat|aikaisemmat|kaikki|edelliset|yllä olevat|alkuperäiset|järjestelmä",
        "näytä|tulosta|toista|kerro|paljasta|kirjoita",
        "järjestelmäkehote|järjestelmäviesti|järjestelmäohjeet|ohjeesi|alkuperäiset ohjeet|sanasta sanaan|sanatarkasti|yllä oleva teksti",
        "ilman rajoituksia|ilman sääntöjä|ilman suodattimia|ilman sensuuria|rajoittamaton",
        "olet nyt|tästä lähtien|teeskentele|esitä olevasi|toimi kuin",
    ),
    # The ten languages of injection_rules.py: only what their rules lack (verbatim, role-play).
    "es_fr_de_it_pt": _v(
        "",
        "",
        "",
        "repite|repíteme|escribe|muestra|copia|répète|répétez|recopie|écris|affiche|wiederhole|schreibe|gib|ripeti|scrivi|copia|repita|escreva|copie",
        "textualmente|palabra por palabra|todo lo anterior|el texto anterior|mot pour mot|mot à mot|textuellement|tout ce qui précède|le texte ci-dessus|wortwörtlich|wort für wort|alles oben|den text oben|parola per parola|testualmente|tutto quanto sopra|il testo sopra|palavra por palavra|tudo acima|o texto acima",
        "sin censura|sin filtros|sin restricciones|sans censure|sans filtre|sans restrictions|ohne zensur|ohne filter|ohne einschränkungen|senza censura|senza filtri|senza restrizioni|sem censura|sem filtros|sem restrições",
        "a partir de ahora|de ahora en adelante|finge|actúa como|haz de|à partir de maintenant|désormais|fais semblant|agis comme|joue le rôle|ab jetzt|von nun an|tu so|spiele die rolle|verhalte dich wie|da ora in poi|d'ora in poi|fingi|comportati come|interpreta|a partir de agora|de agora em diante|finja|aja como|atue como",
    ),
    "ja_zh_ko": _v(
        "",
        "",
        "",
        "繰り返して|繰り返し|出力して|書いて|表示して|重复|输出|复述|写出|반복해|출력해|써 줘|보여 줘",
        "一字一句|逐字|原文のまま|そのまま全部|上記の文章|上の文章|以上所有内容|上面的所有内容|上面的文字|위의 내용|위 텍스트|글자 그대로",
        "制限なし|制限のない|制約のない|検閲なし|フィルターなし|제한 없는|제한이 없는|검열 없는|필터 없는|규칙 없는",
        "あなたは今|今からあなたは|これからあなたは|ふりをして|として振る舞|になりきって|너는 이제|당신은 이제|지금부터|인 척|역할을",
    ),
    "ru": _v(
        "",
        "",
        "",
        "повтори|напиши|выведи|покажи|скопируй",
        "дословно|слово в слово|всё выше|все выше|текст выше|весь текст выше",
        "без цензуры|без фильтров|без ограничений|без каких-либо ограничений",
        "теперь ты|ты теперь|с этого момента|отныне|притворись|представь что ты|представь, что ты|веди себя как|сыграй роль",
    ),
}

_GAP = r"[^.!?\n\u0964\u06d4\u3002]{0,60}?"  # within a sentence (danda, Urdu full stop, 。 included)


def _alt(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


def _start(language: str) -> str:
    """Latin, Greek, Cyrillic and Hebrew words start at a word boundary; Indic, Thai and Arabic-script
    ones are matched as written (see the module docstring)."""
    return "" if language in ("hi", "bn", "th", "fa", "ur", "ar", "ja_zh_ko") else r"\b"


# Keys the hand-written rules already run on ("ignor", "instr", "promp", "syste"...): a stem with
# such a key ("ignorera", "instruksi", "prompt sistem") would run a language's rules on every
# English attack. Rules are keyed on the language's other words; the pattern still matches them all.
_TAKEN = frozenset(k for r in _OWN_RULES for k in r.keys)


_RULED = ("es_fr_de_it_pt", "ru", "ja_zh_ko")  # the ten languages: they share their own rules' keys


def _stems(language: str, *lists: tuple[str, ...]) -> tuple[str, ...]:
    stems = tuple(s for words in lists for s in words)
    own = tuple(s for s in stems if stem_key(s) not in _TAKEN)
    return stems if language in _RULED else own or stems


def _rules(language: str, v: Vocabulary) -> list[Rule]:
    b = _start(language)
    out = []
    if v.ignore and v.instructions:
        ign, ins, prev = f"{b}{_alt(v.ignore)}", f"{b}{_alt(v.instructions)}", f"{b}{_alt(v.previous)}"
        out.append(
            rule(
                f"ignore_previous_{language}",
                Category.INSTRUCTION_OVERRIDE,
                (0.9, 0.95),
                _stems(language, v.ignore, v.instructions, v.previous),
                f"{ign}{_GAP}{prev}{_GAP}{ins}|{ign}{_GAP}{ins}{_GAP}{prev}|{prev}{_GAP}{ins}{_GAP}{ign}|{ins}{_GAP}{prev}{_GAP}{ign}",
                reach=(160, 160),
            )
        )
        out.append(
            rule(
                f"ignore_what_{language}",
                Category.INSTRUCTION_OVERRIDE,
                (0.45, 0.6),
                _stems(language, v.ignore, v.instructions),
                f"{ign}{_GAP}{ins}|{ins}{_GAP}{ign}",
                reach=(100, 100),
            )
        )
    show, target = f"{b}{_alt(v.show)}", f"{b}{_alt(v.system_prompt)}"
    out.append(
        rule(
            f"extraction_{language}",
            Category.PROMPT_EXTRACTION,
            (0.85, 0.9),
            _stems(language, v.system_prompt, v.show),
            f"{show}{_GAP}{target}|{target}{_GAP}{show}",
            reach=(100, 100),
        )
    )
    limits, persona = f"{b}{_alt(v.no_limits)}", f"{b}{_alt(v.persona)}"
    out.append(
        rule(
            f"roleplay_{language}",
            Category.ROLEPLAY_JAILBREAK,
            (0.85, 0.9),
            _stems(language, v.no_limits),
            rf"{persona}[^\n]{{0,160}}?{limits}|{limits}[^\n]{{0,160}}?{persona}",
            reach=(200, 200),
        )
    )
    return out


RULES: list[Rule] = [r for language, v in VOCABULARY.items() for r in _rules(language, v)]
