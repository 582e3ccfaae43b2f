# ruff: noqa: RUF001  (Cyrillic and Greek words whose letters look like Latin ones)
"""Prompt-injection rules in more languages, built from one vocabulary table per language (the
ten of ``injection_rules.py`` have hand-written rules; these add their "repeat verbatim" and
role-play wordings): an instruction set aside (a verb and instructions, in either order, stronger
with "previous" or "all" beside them), the system prompt asked for, and a persona without limits.

Words in Latin, Greek, Cyrillic and Hebrew letters start at a word boundary; in Indic, Thai and
Arabic scripts they are matched as written (a vowel sign is not a word character there, so
``\\b`` would cut words apart). The vocabulary is deliberately of whole phrases
(``ignore ... instructions``, not ``instructions``), so a language's everyday text does not match.
A word is a prefix (``instrukcij`` is every case of it) unless it ends in ``$``: then the word ends
there (``glem$`` is Danish "forget!", not ``glemt``, "forgot").
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
        "abaikan|lupakan|jangan ikuti|jangan patuhi|hiraukan|acuhkan|jangan hiraukan|tinggalkan|buang|jangan pedulikan|jangan endahkan|usah hiraukan|ketepikan|jangan ikut$",
        "instruksi|perintah|arahan|aturan|peraturan|petunjuk|prompt|sekatan|gesaan",
        "sebelumnya|semua|seluruh|di atas|awal|asli|sistem|terdahulu|sebelum ini",
        "tampilkan|tunjukkan|perlihatkan|sebutkan|beritahu|beri tahu|ulangi|cetak|tuliskan|ungkapkan|bocorkan|paparkan|nyatakan|dedahkan|salin semula|apa$|apakah",
        "prompt sistem|pesan sistem|instruksi sistem|instruksi awal|instruksi asli|instruksimu|instruksi anda|instruksi kamu|arahan sistem|arahan anda|arahan asal|gesaan sistem|mesej sistem|kata demi kata|kata per kata|perkataan demi perkataan|teks di atas|semua teks di atas|perkataan di atas|kata-kata di atas",
        "tanpa batasan|tanpa aturan|tanpa filter|tanpa sensor|tidak ada batasan|tanpa batas apa pun|bebas dari aturan|tanpa had|tanpa sekatan|tanpa peraturan|tanpa sebarang sekatan|tanpa tapisan|tanpa penapis|tanpa tapisan|tanpa etika|tanpa moral|tanpa sebarang etika",
        "kamu sekarang|anda sekarang|mulai sekarang kamu|mulai sekarang anda|mulai sekarang engkau|mulai sekarang awak|berpura-pura|berperan sebagai|bertindak sebagai|jadilah|kamu adalah|anda adalah|berlakon|anda kini|kini anda|anda ialah",
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
    "sv": _v(  # Swedish (Danish and Norwegian: "da", "nb")
        "ignorera|glöm$|glöm bort|bortse från|strunta i|följ inte|sluta följa|åsidosätt|bry dig inte om",
        "instruktioner|instruktionerna|regler|reglerna|riktlinjer|riktlinjerna|direktiv|prompt|anvisningar",
        "tidigare|alla$|föregående|ovanstående|ursprungliga|system",
        "visa|skriv ut|upprepa|berätta|avslöja|återge|skriv|ge mig|citera|vad är|vilka är",
        "systemprompt|systemmeddelande|systeminstruktioner|dina instruktioner|ursprungliga instruktioner|dolda instruktioner|ord för ord|ordagrant|texten ovan|allt ovan|orden ovan|orden ovanför",
        "utan begränsningar|utan några begränsningar|utan regler|utan filter|utan censur|inga begränsningar|inga regler|ofiltrerad|ocensurerad|utan några etiska|utan etiska|utan moral",
        "du är nu|från och med nu|låtsas|lat som|spela rollen|agera som|bete dig som|föreställ dig att du är",
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
    "da": _v(
        "ignorer|ignorér|glem$|glem alt om|se bort fra|følg ikke|lad være med at følge|undlad at følge|tilsidesæt",
        "instruktion|instruks|regler|reglerne|retningslinje|anvisning|direktiv|prompt|kommando",
        "tidligere|forrige|foregående|alle$|ovenstående|oprindelige|system",
        "vis$|vis mig|skriv|udskriv|gentag|fortæl|afslør|giv mig|citér|citer|gengiv|hvad er|hvad var|hvilke er",
        "systemprompt|systembesked|systemmeddelelse|systeminstruks|dine instruktioner|dine instrukser|oprindelige instruktioner|skjulte instruktioner|ord for ord|ordret|teksten ovenfor|alt ovenfor|alt ovenstående|ordene ovenfor|ordene herover|ovenstående ord",
        "uden begrænsninger|uden nogen begrænsninger|uden regler|uden filter|uden filtre|uden censur|ingen begrænsninger|ingen regler|ucensureret|ufiltreret|brudt fri af|brudt fri fra|ikke behøver at overholde|behøver ikke at overholde|uden nogen etiske|uden etiske|uden moral",
        "du er nu|fra nu af er du|fra nu af skal du|fra nu er du|lad som om|lad som|spil rollen|agér som|ager som|opfør dig som|forestil dig at du er|forestil dig, at du er|påtage dig rollen|påtag dig rollen",
    ),
    "nb": _v(  # Norwegian (Bokmål)
        "ignorer|glem$|glem alt om|se bort fra|ikke følg|følg ikke|ikke bry deg om|bry deg ikke om|tilsidesett|slutt å følge",
        "instruksjon|instruks|regler|reglene|retningslinje|anvisning|direktiv|prompt|kommando",
        "tidligere|forrige|foregående|alle$|ovenstående|opprinnelige|system",
        "vis$|vis meg|skriv|skriv ut|gjenta|fortell|avslør|gi meg|siter|gjengi|hva er|hva var|hvilke er",
        "systemprompt|systemmelding|systeminstruks|dine instruksjoner|dine instrukser|opprinnelige instruksjoner|skjulte instruksjoner|ord for ord|ordrett|teksten ovenfor|alt ovenfor|alt ovenstående|ordene ovenfor|ordene over",
        "uten begrensninger|uten noen begrensninger|uten regler|uten filter|uten sensur|ingen begrensninger|ingen regler|usensurert|ufiltrert|brutt fri fra|trenger ikke å følge|ikke trenger å følge|uten noen etiske|uten etiske|uten moral",
        "du er nå|fra nå av er du|fra nå av skal du|fra nå er du|lat som|late som|spill rollen|oppfør deg som|opptre som|forestill deg at du er|forestill deg, at du er|ta på deg rollen|påta deg rollen",
    ),
    "ca": _v(  # Catalan
        "ignora$|ignoreu|ignori$|oblida$|oblideu|oblidi|no segueixis|no seguiu|no facis cas|no feu cas|deixa de banda|omet$",
        "instruccions|instrucció|indicacions|regles|directrius|ordres|prompt",
        "anteriors|prèvies|totes|tots$|de dalt|anterior|originals|inicials|sistema",
        "mostra|mostreu|mostri|ensenya|ensenyeu|digues|digueu|repeteix|repetiu|escriu|escriviu|imprimeix|revela|reveleu|copia|quin és|quina és|quins són|quines són|què és",
        "prompt del sistema|missatge del sistema|instruccions del sistema|les teves instruccions|les vostres instruccions|instruccions inicials|instruccions originals|instruccions ocultes|paraula per paraula|textualment|el text anterior|tot el que hi ha a dalt|tot l'anterior|tot l’anterior|les paraules de dalt|les paraules anteriors",
        "sense restriccions|sense cap restricció|sense límits|sense regles|sense filtres|sense censura|sense ètica|sense cap ètica|sense principis ètics|sense moral",
        "ara ets|a partir d'ara ets|a partir d’ara ets|a partir d'ara seràs|a partir d’ara seràs|d'ara endavant ets|d’ara endavant ets|d'ara endavant seràs|fes veure que|fingeix|actua com|fes el paper|interpreta el paper|comporta't com|comporta’t com",
    ),
    "hr_sr_bs": _v(  # Croatian, Serbian and Bosnian in Latin letters
        "ignoriraj|ignorirajte|ignoriši|ignorišite|zanemari$|zanemarite|zaboravi$|zaboravite|ne slijedi$|ne slijedite|ne sledi$|ne sledite|ne poštuj|ne poštujte|ne pridržavaj se|ne pridržavajte se|ne obaziri se|ne obazirite se",
        "upute|uputa|uputama|uputstva|uputstvo|uputstvima|instrukcij|pravila$|pravilima|naredb|smjernic|smernic|prompt|naputk|komand",
        "prethodn|ranij|sve$|svih|sva$|gore navedene|gornje|izvorne|originalne|početne|sistemsk|sustavsk",
        "pokaži|pokažite|prikaži|prikažite|ispiši|ispišite|ponovi|ponovite|otkrij|otkrijte|reci mi|recite mi|napiši|napišite|daj mi|dajte mi|citiraj|citirajte|koji je|koja je|koje su|što je|šta je|kakav je|kakve su|što su|šta su",
        "sistemski prompt|sistemsku poruku|sistemska poruka|sistemske upute|sistemska uputstva|sustavski prompt|sistemski upit|svoje upute|svoja uputstva|tvoje upute|tvoja uputstva|vaše upute|početne upute|izvorne upute|originalne upute|skrivene upute|riječ po riječ|reč po reč|tekst iznad|sve iznad|sve gore navedeno|riječi iznad|reči iznad|riječi gore|reči gore",
        "bez ograničenja|bez ikakvih ograničenja|bez pravila|bez filtera|bez filtra|bez cenzure|nikakvih ograničenja|nikakva ograničenja|necenzuriran|nefiltriran|bez ikakvih etičkih|bez etičkih|bez morala",
        "sada si|sad si|ti si sada|ti si sad|od sada ćeš|od sada ti si|od sada budi|odsad si|pretvaraj se|pretvarajte se|glumi$|glumite|igraj ulogu|ponašaj se kao|ponašajte se kao|zamisli da si|preuzmi ulogu|ćeš se ponašati kao",
    ),
    "sr": _v(  # Serbian in Cyrillic
        "игнориши|игноришите|занемари$|занемарите|заборави$|заборавите|не слушај|не следи$|не следите|не поштуј|не поштујте|не придржавај се|не обазири се",
        "упутства|упутствима|упутство|упуте|упутама|инструкциј|правила$|правилима|наредб|смерниц|промпт|команд",
        "претходн|раниј|све$|сва$|свих|горе наведен|горњ|изворн|оригиналн|почетн|системск",
        "покажи|покажите|прикажи|прикажите|испиши|испишите|понови|поновите|откриј|откријте|реци ми|реците ми|напиши|напишите|дај ми|дајте ми|цитирај|који је|која је|које су|шта је|шта су|какав је",
        "системски промпт|системску поруку|системска порука|системска упутства|своја упутства|твоја упутства|ваша упутства|почетна упутства|изворна упутства|скривена упутства|реч по реч|текст изнад|све изнад|речи изнад|речи горе",
        "без ограничења|без икаквих ограничења|без правила|без филтера|без цензуре|никаквих ограничења|нецензурисан|нефилтриран|без икаквих етичких|без етичких|без морала",
        "сада си|сад си|ти си сада|од сада ћеш|од сада ти си|од сада буди|одсад си|претварај се|глуми$|глумите|играј улогу|понашај се као|замисли да си",
    ),
    "bg": _v(  # Bulgarian
        "игнорирай|игнорирайте|забрави$|забравете|не следвай|не следвайте|не спазвай|не спазвайте|не обръщай внимание на|не обръщайте внимание на|пренебрегни|пренебрегнете",
        "инструкци|указания|указанията|правила$|правилата|команд|насоки|насоките|промпт|подкана",
        "предишн|предходн|всички|по-горе|горн|първоначалн|оригиналн|системн",
        "покажи|покажете|изведи|изведете|повтори|повторете|разкрий|разкрийте|кажи ми|кажете ми|напиши|напишете|отпечатай|цитирай|какъв е|каква е|какви са|кои са|какво е",
        "системния промпт|системният промпт|системен промпт|системното съобщение|системно съобщение|системните инструкции|своите инструкции|твоите инструкции|вашите инструкции|първоначалните инструкции|оригиналните инструкции|скритите инструкции|дума по дума|текста по-горе|всичко по-горе|целия текст по-горе|думите по-горе|думите отгоре",
        "без ограничения|без никакви ограничения|без правила|без филтри|без цензура|никакви ограничения|нецензуриран|нефилтриран|без никакви етични|без етични|без морал",
        "сега си|ти си сега|отсега нататък си|отсега нататък ти си|отсега си|отсега ти си|от сега нататък си|от сега нататък ти си|от този момент си|от този момент ти си|преструвай се|престори се|играй ролята|дръж се като|държи се като|представи си, че си|представи си че си|влез в ролята|влезте в ролята",
    ),
    "sk": _v(  # Slovak
        "ignoruj|ignorujte|odignoruj|zabudni|zabudnite|nedbaj na|neriaď sa|neriaďte sa|nedodržiavaj|nedodržiavajte|prestaň dodržiavať",
        "inštrukci|pokyn|pravidl|príkaz|prompt|smernic",
        "predchádzajúc|predošl|všetky|všetkých|všetko|pôvodn|vyššie|systémov",
        "ukáž|ukážte|zobraz|zobrazte|vypíš|vypíšte|zopakuj|zopakujte|prezraď|prezraďte|napíš|napíšte|povedz mi|povedzte mi|aký je|aká je|aké sú|čo je|čo sú",
        "systémový prompt|systémovú správu|systémová správa|systémové pokyny|svoje pokyny|tvoje pokyny|vaše pokyny|pôvodné pokyny|skryté pokyny|slovo po slove|doslova|doslovne|text vyššie|všetko vyššie|slová vyššie|slová nad|vyššie uvedené slová",
        "bez obmedzení|bez akýchkoľvek obmedzení|bez pravidiel|bez filtrov|bez cenzúry|žiadne obmedzenia|žiadne pravidlá|necenzurovan|bez akýchkoľvek etických|bez etických|bez morálky",
        "teraz si|odteraz si|odteraz budeš|od teraz si|od teraz budeš|predstieraj|hraj rolu|hraj úlohu|správaj sa ako|predstav si, že si|predstav si že si|prevezmi rolu|vžij sa do role|budeš hrať rolu",
    ),
    "sl": _v(  # Slovenian
        "ignoriraj|ignorirajte|prezri|prezrite|pozabi$|pozabite|ne upoštevaj|ne upoštevajte|ne sledi$|ne sledite|ne ubogaj",
        "navodil|pravila$|pravil$|pravilom|ukaz|smernic|prompt|inštrukcij",
        "prejšnj|predhodn|vsa$|vse$|vseh|zgornj|zgoraj|prvotn|izvirn|začetn|sistemsk",
        "pokaži|pokažite|prikaži|prikažite|izpiši|izpišite|ponovi|ponovite|razkrij|razkrijte|povej mi|povejte mi|napiši|napišite|navedi|kakšen je|kakšna je|kakšna so|kaj je|katera so",
        "sistemski poziv|sistemski prompt|sistemsko sporočilo|sistemska navodila|svoja navodila|tvoja navodila|vaša navodila|prvotna navodila|izvirna navodila|začetna navodila|skrita navodila|besedo za besedo|dobesedno|besedilo zgoraj|vse zgoraj|besede zgoraj|zgornje besede",
        "brez omejitev|brez kakršnih koli omejitev|brez pravil|brez filtrov|brez cenzure|nobenih omejitev|necenzuriran|brez kakršnih koli etičnih|brez etičnih|brez morale",
        "zdaj si|sedaj si|od zdaj si|odslej si|odslej boš|od zdaj boš|od sedaj naprej si|pretvarjaj se|igraj vlogo|obnašaj se kot|vedi se kot|predstavljaj si, da si|predstavljaj si da si|boš igral vlogo|boš igrala vlogo|od zdaj naprej boš|odslej naprej boš",
    ),
    "lt": _v(  # Lithuanian
        "ignoruok|ignoruokite|pamiršk|pamirškite|nepaisyk|nepaisykite|nesilaikyk|nesilaikykite|nekreipk dėmesio|nekreipkite dėmesio|nevykdyk|nevykdykite",
        "instrukcij|nurodym|taisykl|komand|prompt",
        "ankstesn|visus$|visas$|visų|visi$|aukščiau|pradin|originali|sistem",
        "parodyk|parodykite|išvesk|išveskite|pakartok|pakartokite|atskleisk|atskleiskite|pasakyk|pasakykite|parašyk|parašykite|išspausdink|cituok|koks yra|kokia yra|kokie yra|kokios yra|kas yra|koks tavo|kokia tavo|kokios tavo|kokie tavo",
        "sistemos raginim|sistemos prompt|sistemos pranešim|sistemos instrukcij|savo instrukcij|tavo instrukcij|jūsų instrukcij|pradines instrukcij|pradinės instrukcij|paslėptas instrukcij|žodis žodin|pažodžiui|tekstą aukščiau|tekstas aukščiau|viską aukščiau|visą tekstą aukščiau|aukščiau esančius žodžius|žodžius aukščiau",
        "be apribojimų|be jokių apribojimų|be taisyklių|be filtrų|be cenzūros|jokių apribojimų|necenzūruot|be jokių etinių|be etinių|be moralės",
        "dabar tu esi|tu dabar esi|nuo šiol tu|nuo šiol esi|nuo šiol būsi|nuo dabar tu|apsimesk|apsimeskite|vaidink|atlik vaidmenį|elkis kaip|įsivaizduok, kad esi|įsivaizduok kad esi",
    ),
    "lv": _v(  # Latvian
        "ignorē|ignorējiet|aizmirsti|aizmirstiet|neievēro|neievērojiet|neņem vērā|neņemiet vērā|neseko$|nesekojiet|neklausi",
        "instrukcij|norādījum|noteikum|komand|prompt",
        "iepriekšēj|visas$|visus$|visu$|visi$|augstāk|sākotnēj|oriģināl|sistēm",
        "parādi|parādiet|izvadi|izvadiet|atkārto|atkārtojiet|atklāj|atklājiet|pasaki|pasakiet|uzraksti|uzrakstiet|izdrukā|citē|kāds ir|kāda ir|kādi ir|kādas ir|kas ir",
        "sistēmas uzvedn|sistēmas prompt|sistēmas ziņojum|sistēmas instrukcij|savas instrukcij|tavas instrukcij|jūsu instrukcij|sākotnējās instrukcij|slēptās instrukcij|vārds vārdā|vārdu pa vārdam|tekstu augstāk|tekstu iepriekš|visu augstāk|vārdus augstāk|augstāk esošos vārdus|augstāk minētos vārdus",
        "bez ierobežojumiem|bez jebkādiem ierobežojumiem|bez noteikumiem|bez filtriem|bez cenzūras|nekādu ierobežojumu|necenzēt|bez jebkādām ētikas|bez ētikas|bez morāles",
        "tagad tu esi|tu tagad esi|no šī brīža tu|turpmāk tu|izliecies|izlikies|tēlo$|spēlē lomu|uzvedies kā|iedomājies, ka tu esi|iedomājies, ka esi|iedomājies ka esi",
    ),
    "et": _v(  # Estonian
        "ignoreeri|ignoreerige|unusta$|unustage|ära järgi|ärge järgige|eira$|eirake|jäta tähelepanuta|jätke tähelepanuta|ära arvesta",
        "juhis|reegl|käsk|korraldus|prompt|viip",
        "eelmis|varasem|kõik$|kõiki$|kõigi$|ülaltoodud|eelnev|algse|algsed|esialgse|süsteem",
        "näita|näidake|kuva|kuvage|korda|korrake|avalda|avaldage|ütle mulle|öelge mulle|kirjuta|kirjutage|prindi|trüki|mis on|millised on|milline on",
        "süsteemiviip|süsteemi viip|süsteemiprompt|süsteemi prompt|süsteemisõnum|süsteemi sõnum|süsteemi juhised|süsteemi juhiseid|oma juhised|sinu juhised|teie juhised|algsed juhised|esialgsed juhised|peidetud juhised|sõna-sõnalt|sõnast sõnasse|ülaltoodud teksti|ülalolevat teksti|kõik ülaltoodu|ülaltoodud sõnu|ülalolevaid sõnu|ülaltoodud sõnad",
        "ilma piiranguteta|ilma igasuguste piiranguteta|ilma reegliteta|ilma filtriteta|ilma tsensuurita|tsenseerimata|ilma igasuguste eetiliste|ilma eetiliste|ilma moraalita|ilma eetikata",
        "nüüd oled sa|sa oled nüüd|nüüdsest oled|nüüdsest sa|nüüdsest peale oled|teeskle|teeselge|mängi rolli|käitu nagu|kujuta ette, et oled|kujuta ette et oled",
    ),
    "ta": _v(  # Tamil
        "புறக்கணி|மறந்துவிடு|மறந்து விடு|மறந்துவிடுங்கள்|பின்பற்ற வேண்டாம்|பின்பற்றாதே|கண்டுகொள்ளாதே|கண்டுகொள்ள வேண்டாம்|பொருட்படுத்தாதே|பொருட்படுத்த வேண்டாம்",
        "அறிவுறுத்தல்|வழிமுறை|விதிகள்|விதிகளை|விதிமுறை|கட்டளை|ப்ராம்ப்ட்|பிராம்ப்ட்",
        "முந்தைய|முன்பு|எல்லா|அனைத்து|மேலே|அசல்|ஆரம்ப|சிஸ்டம்|அமைப்பு",
        "காட்டு|காட்டுங்கள்|காண்பி|சொல்லுங்கள்|சொல்லு|கூறுங்கள்|திரும்பச் சொல்|திரும்ப எழுது|மீண்டும் எழுது|அச்சிடு|எழுது|எழுதுங்கள்|வெளிப்படுத்து|என்ன",
        "சிஸ்டம் ப்ராம்ப்ட்|சிஸ்டம் பிராம்ப்ட்|சிஸ்டம் செய்தி|அமைப்பு அறிவுறுத்தல்|உங்கள் அறிவுறுத்தல்|உன் அறிவுறுத்தல்|உனது அறிவுறுத்தல்|ஆரம்ப அறிவுறுத்தல்|அசல் அறிவுறுத்தல்|மறைக்கப்பட்ட அறிவுறுத்தல்|வார்த்தைக்கு வார்த்தை|சொல்லுக்குச் சொல்|மேலே உள்ள உரை|மேலே உள்ள அனைத்தை|மேலே உள்ள வார்த்தைகளை|மேலே உள்ள சொற்களை",
        "கட்டுப்பாடுகள் இல்லாமல்|எந்தக் கட்டுப்பாடும் இல்லாமல்|எந்த கட்டுப்பாடும் இல்லாமல்|வரம்புகள் இல்லாமல்|விதிகள் இல்லாமல்|தணிக்கை இல்லாமல்|வடிகட்டி இல்லாமல்",
        "இப்போது நீ|நீ இப்போது|இனிமேல் நீ|இனி நீ|இப்போது முதல் நீ|போல நடி|போல் நடி|போல நடிக்கவும்|போல் நடிக்கவும்|பாத்திரத்தில் நடி|போல் செயல்படு|போல செயல்படு",
    ),
    "mr": _v(  # Marathi
        "दुर्लक्ष कर|विसरून जा|विसरा$|पालन करू नकोस|पालन करू नका|मानू नकोस|मानू नका|बाजूला ठेव",
        "सूचना|नियम|आदेश|प्रॉम्प्ट|प्रॉम्ट",
        "मागील|आधीच्या|आधीचे|पूर्वीच्या|सर्व|वरील|मूळ|सिस्टम|प्रणाली",
        "दाखव|सांग|पुन्हा लिहा|पुन्हा लिही|जसाच्या तसा लिहा|छापा|उघड कर|काय आहे|काय आहेत",
        "सिस्टम प्रॉम्प्ट|सिस्टम प्रॉम्ट|सिस्टम संदेश|सिस्टम सूचना|प्रणाली सूचना|मूळ सूचना|सुरुवातीच्या सूचना|लपवलेल्या सूचना|शब्दशः|जसाच्या तसा|जशाच्या तशा|वरील सर्व मजकूर|वरील शब्द",
        "कोणत्याही निर्बंधांशिवाय|निर्बंधांशिवाय|मर्यादांशिवाय|कोणत्याही मर्यादेशिवाय|नियमांशिवाय|सेन्सॉरशिवाय|फिल्टरशिवाय",
        "तू आता|आता तू|आतापासून तू|आतापासून तुम्ही|असल्याचे नाटक कर|असल्याचा आव आण|सारखे वाग|ची भूमिका",
    ),
    "ne": _v(  # Nepali
        "बेवास्ता गर|वास्ता नगर|बिर्सिदेऊ|बिर्सनुहोस्|बिर्सिदिनुहोस्|पालना नगर|नमान्नुहोस्",
        "निर्देशन|निर्देश|नियम|आदेश|प्रम्प्ट|प्रोम्प्ट",
        "अघिल्ला|अघिल्लो|पहिलेका|पहिलेको|सबै|माथिका|माथिको|मूल|सिस्टम|प्रणाली",
        "देखाऊ|देखाउनुहोस्|भन्नुहोस्|भन$|दोहोर्याउ|दोहोऱ्याउ|दोहोर्‍याउ|लेख्नुहोस्|छाप|खुलासा गर|के हो|के के हुन्",
        "सिस्टम प्रम्प्ट|सिस्टम प्रोम्प्ट|सिस्टम सन्देश|प्रणाली सन्देश|मूल निर्देशन|प्रारम्भिक निर्देशन|लुकेका निर्देशन|शब्दशः|जस्ताको तस्तै|माथिको सबै पाठ|माथिका सबै|माथिका शब्द",
        "कुनै प्रतिबन्ध बिना|प्रतिबन्ध बिना|कुनै सीमा बिना|कुनै नियम बिना|नियम बिना|सेन्सर बिना|फिल्टर बिना|प्रतिबन्धरहित",
        "तिमी अब|अब तिमी|तपाईं अब|अबदेखि तिमी|अब देखि तिमी|अबदेखि तपाईं|अब देखि तपाईं|भएको नाटक गर|भएको बहाना गर|को भूमिका|जस्तै व्यवहार गर",
    ),
    "gu": _v(  # Gujarati
        "અવગણો|અવગણ$|ભૂલી જાઓ|ભૂલી જા$|પાલન ન કરો|પાલન કરશો નહીં|ધ્યાન ન આપો|ધ્યાનમાં ન લો",
        "સૂચના|નિર્દેશ|નિયમ|આદેશ|પ્રોમ્પ્ટ",
        "અગાઉના|અગાઉની|પહેલાંના|પહેલાના|બધા|બધી|બધું|ઉપરના|ઉપરની|મૂળ|સિસ્ટમ",
        "બતાવો|બતાવ$|કહો|જણાવો|ફરીથી લખો|પુનરાવર્તન કરો|છાપો|જાહેર કરો|શું છે",
        "સિસ્ટમ પ્રોમ્પ્ટ|સિસ્ટમ સંદેશ|સિસ્ટમ સૂચના|મૂળ સૂચનાઓ|પ્રારંભિક સૂચનાઓ|છુપાયેલી સૂચનાઓ|શબ્દશઃ|શબ્દે શબ્દ|ઉપરનું બધું લખાણ|ઉપરનો બધો લખાણ|ઉપરનું બધું|ઉપરના શબ્દો",
        "કોઈપણ પ્રતિબંધ વિના|પ્રતિબંધ વિના|કોઈ પ્રતિબંધ વગર|પ્રતિબંધ વગર|મર્યાદા વિના|નિયમો વિના|નિયમો વગર|સેન્સર વિના|ફિલ્ટર વિના",
        "તમે હવે|હવે તમે|તું હવે|હવે તું|હવેથી તમે|હવેથી તું|અત્યારથી તમે|અત્યારથી તું|હોવાનો ડોળ કર|હોવાનું નાટક કર|ની ભૂમિકા|જેવું વર્તન કર|તરીકે વર્ત",
    ),
    "te": _v(  # Telugu
        "విస్మరించ|పట్టించుకోకు|పట్టించుకోవద్దు|మర్చిపో$|మర్చిపోండి|మరచిపో$|మరచిపోండి|పాటించకు|పాటించవద్దు|అనుసరించవద్దు|అనుసరించకు",
        "సూచనలు|సూచనల|నియమాలు|నియమాల|ఆదేశాలు|ఆదేశాల|ప్రాంప్ట్|నిబంధనలు",
        "మునుపటి|ఇంతకు ముందు|అన్ని|పైన|ప్రారంభ|సిస్టమ్",
        "చూపించు|చూపించండి|చూపు|చెప్పు|చెప్పండి|తిరిగి రాయి|మళ్ళీ రాయండి|పునరావృతం చేయ|ముద్రించు|రాయండి|బయటపెట్టు|వెల్లడించు|ఏమిటి",
        "సిస్టమ్ ప్రాంప్ట్|సిస్టమ్ సందేశం|సిస్టమ్ సూచనలు|ప్రారంభ సూచనలు|దాచిన సూచనలు|పదం పదంగా|యథాతథంగా|ఉన్నది ఉన్నట్లుగా|పైన ఉన్న మొత్తం|పైన ఉన్న పదాల|పై పదాల",
        "ఎలాంటి పరిమితులు లేకుండా|పరిమితులు లేకుండా|ఎటువంటి పరిమితులు లేకుండా|నియమాలు లేకుండా|ఆంక్షలు లేకుండా|సెన్సార్ లేకుండా|ఫిల్టర్ లేకుండా",
        "నువ్వు ఇప్పుడు|ఇప్పుడు నువ్వు|మీరు ఇప్పుడు|ఇప్పుడు మీరు|ఇకపై నువ్వు|ఇకపై మీరు|ఇప్పటి నుండి నువ్వు|ఇప్పటి నుండి మీరు|నటించు|నటించండి|పాత్ర పోషించు|లా ప్రవర్తించు|లాగా ప్రవర్తించు",
    ),
    "af": _v(  # Afrikaans
        "ignoreer|vergeet al|vergeet die|vergeet jou|vergeet enige|vergeet wat|moenie volg nie|volg nie|verontagsaam|slaan geen ag op",
        "instruksies|opdragte|reëls|riglyne|aanwysings|bevele|prompt",
        "vorige|alle$|al die|bostaande|voorafgaande|oorspronklike|stelsel|sisteem",
        "wys my|wys$|toon$|herhaal|druk uit|skryf|sê vir my|vertel my|openbaar|gee my|haal aan|wat is|wat was|wat sê",
        "stelselprompt|stelselboodskap|stelselinstruksies|jou instruksies|u instruksies|oorspronklike instruksies|woord vir woord|woordeliks|die teks hierbo|alles hierbo|die woorde hierbo|woorde hierbo",
        "sonder beperkings|sonder enige beperkings|sonder reëls|sonder filters|sonder sensuur|geen beperkings|geen reëls|ongesensor|ongefiltreer|sonder enige etiese|sonder etiese|sonder moraal",
        "jy is nou|nou is jy|van nou af is jy|vanaf nou is jy|van nou af sal jy|maak asof|speel die rol|tree op as|gedra jou soos|verbeel jou jy is",
    ),
    "sq": _v(  # Albanian
        "injoro|injoroni|harro$|harroni|mos ndiq|mos ndiqni|mos i ndiq|mos i ndiqni|mos i zbato|mos i zbatoni|shpërfill|shpërfillni|lëri mënjanë",
        "udhëzim|rregullat|rregullave|rregulla$|urdhr|komand|prompt|direktiv",
        "mëparshme|më parë|të gjitha|gjithë|sipër|origjinale|fillestare|sistemit",
        "trego|tregoni|shfaq|shfaqni|përsërit|përsëritni|zbulo|zbuloni|shkruaj|shkruani|thuaj|cili është|cila është|cilat janë|çfarë është|çfarë thonë",
        "prompt-in e sistemit|promptin e sistemit|mesazhin e sistemit|mesazhi i sistemit|udhëzimet e sistemit|udhëzimet e tua|udhëzimet tuaja|udhëzimet fillestare|udhëzimet origjinale|udhëzimet e fshehura|fjalë për fjalë|tekstin më sipër|tekstin e mësipërm|gjithçka më sipër|fjalët e mësipërme|fjalët më sipër|prompti i sistemit|prompti yt i sistemit|promptin tënd të sistemit",
        "pa kufizime|pa asnjë kufizim|pa rregulla|pa filtra|pa censurë|asnjë kufizim|i pacensuruar|e pacensuruar|pa asnjë etikë|pa etikë|pa parime etike|pa moral",
        "tani je|ti tani je|tani ti je|nga tani e tutje je|nga tani e tutje ti je|tani e tutje je|bëj sikur|shtiru sikur|luaj rolin|sillu si|vepro si|imagjino se je",
    ),
    "ga": _v(  # Irish
        "déan neamhaird de|déan neamhaird ar|déan neamhshuim de|ná tabhair aird ar|ná tabhair aon aird ar|déan dearmad ar|ná lean|ná leanaigí|ná géill do|ná cloígh le",
        "treoracha|treoir|rialacha|riail|orduithe|prompt",
        "roimhe|go léir|uile|thuas|bunaidh|tosaigh|córais",
        "taispeáin|inis dom|innis dom|abair|scríobh|clóigh|nocht|tabhair dom|athscríobh|cad é|cad iad|céard é|céard iad",
        "leid an chórais|prompt an chórais|teachtaireacht an chórais|treoracha an chórais|do threoracha|bhur dtreoracha|na treoracha bunaidh|treoracha bunaidh|treoracha folaithe|focal ar fhocal|an téacs thuas|gach rud thuas|na focail thuas",
        "gan srianta|gan aon srianta|gan srian|gan teorainneacha|gan aon teorainn|gan rialacha|gan aon rialacha|gan scagaire|gan scagairí|gan chinsireacht|gan cinsireacht",
        "is tú anois|tá tú anois|anois is tú|as seo amach is tú|ó seo amach is tú|as seo amach beidh tú|ó seo amach beidh tú|lig ort|ligean ort|glac ról|imir ról|iompair tú féin mar",
    ),
    "gd": _v(  # Scottish Gaelic
        "leig seachad|dìochuimhnich|dìochuimhnichibh|na lean|na leanaibh|na toir an aire do|na gabh suim de|cuir an dàrna taobh",
        "stiùireadh|stiùiridhean|riaghailtean|riaghailt|òrduighean|àitheantan|prompt",
        "roimhe|na h-uile|uile|gu lèir|shuas|tùsail|t-siostaim|siostam",
        "seall$|seallaibh|seall dhomh|innis dhomh|sgrìobh|ath-aithris|nochd|thoir dhomh",
        "prompt an t-siostaim|teachdaireachd an t-siostaim|stiùireadh an t-siostaim|an stiùireadh agad|do stiùireadh|an stiùireadh tùsail|facal air an fhacal|facal air fhacal|an teacsa shuas|a h-uile rud shuas|na faclan shuas",
        "gun chuingealachadh|gun chuingealachaidhean|gun chrìochan|gun riaghailtean|gun chriathrag|gun chaisgireachd|gun bhacadh",
        "tha thu a-nis|is tu a-nis|a-nis is tu|bho seo a-mach is tu|o seo a-mach is tu|bho seo a-mach bidh tu|leig ort|cluich pàirt|gabh pàirt|giùlain thu fhèin mar",
    ),
    "cy": _v(  # Welsh
        "anwybydda|anwybyddwch|anghofia|anghofiwch|paid â dilyn|peidiwch â dilyn|paid dilyn|peidiwch dilyn|diystyra|diystyrwch",
        "cyfarwyddiadau|gyfarwyddiadau|nghyfarwyddiadau|chyfarwyddiadau|cyfarwyddyd|rheolau|reolau|gorchmynion|canllawiau|ganllawiau|prompt|anogwr",
        "blaenorol|i gyd|pob$|uchod|gwreiddiol|cychwynnol|system",
        "dangos|dangoswch|dangosa|dywed wrthyf|dywedwch wrthyf|dweud wrtha i|ailadrodda|ailadroddwch|ysgrifenna|ysgrifennwch|datgela|datgelwch|argraffa|rho i mi|rhowch i mi|beth yw|beth ydy|beth oedd",
        "anogwr y system|prompt y system|neges y system|cyfarwyddiadau'r system|cyfarwyddiadau’r system|cyfarwyddiadau y system|dy gyfarwyddiadau|eich cyfarwyddiadau|cyfarwyddiadau gwreiddiol|cyfarwyddiadau cudd|air am air|gair am air|y testun uchod|popeth uchod|geiriau uchod",
        "heb gyfyngiadau|heb unrhyw gyfyngiadau|heb reolau|heb unrhyw reolau|heb hidlydd|heb hidlwyr|heb sensoriaeth|dim cyfyngiadau|dim rheolau",
        "rwyt ti nawr|rydych chi nawr|rwyt ti bellach|o hyn ymlaen rwyt ti|o hyn ymlaen rydych chi|o hyn ymlaen byddi di|o nawr ymlaen rwyt ti|esgus bod|cymera rôl|chwarae rôl|ymddwyn fel|ymddyga fel|gweithreda fel|smalia",
    ),
    "eu": _v(  # Basque
        "ez ikusiarena egin|ez ikusi egin|alde batera utzi|ez jarraitu|ez bete|ez egin kasurik|ez kasurik egin|baztertu",
        "argibide|jarraibide|arau|agindu|prompt|instrukzio",
        "aurreko|guztiak|guztia$|goiko|goian|jatorrizko|hasierako|sistema",
        "erakutsi|erakutsidazu|esaidazu|errepikatu|errepika|idatzi|idatzidazu|inprimatu|agerian utzi|zein da|zeintzuk dira|zer da|zer dio",
        "sistemaren prompt|sistemaren mezua|sistemako mezua|sistemaren argibide|zure argibide|zure jarraibide|jatorrizko argibide|hasierako argibide|ezkutuko argibide|hitzez hitz|goiko testua|goiko guztia|goian dagoen guztia|goiko hitzak",
        "murrizketarik gabe|inolako murrizketarik gabe|araurik gabe|iragazkirik gabe|zentsurarik gabe|zentsura gabe|inolako mugarik gabe",
        "hemendik aurrera|aurrerantzean|itxurak egin|plantak egin|bezala jokatu|bezala portatu|rola jokatu|papera egin",
    ),
    "gl": _v(  # Galician
        "ignora$|ignorade|esquece$|esquecede|esqueza|non sigas|non sigades|non siga$|non fagas caso|non fagades caso|pasa por alto|deixa de lado",
        "instrucións|instrución|indicacións|directrices|ordes|prompt",
        "anteriores|previas|todas|todos|de arriba|anterior|orixinais|iniciais|sistema",
        "amosa|amósame|amosade|móstrame|ensíname|dime|dinos|repite|repíteme|escribe|imprime|revela|copia|cal é|cales son|que é|que di$",
        "prompt do sistema|mensaxe do sistema|instrucións do sistema|as túas instrucións|as súas instrucións|instrucións iniciais|instrucións orixinais|instrucións ocultas|palabra por palabra|textualmente|o texto anterior|todo o anterior|o texto de arriba|as palabras de arriba|as palabras anteriores",
        "sen restricións|sen ningunha restrición|sen límites|sen regras|sen filtros|sen censura|ningunha restrición|sen ética|sen principios éticos|sen moral",
        "agora es|a partir de agora es|a partir de agora serás|de agora en diante es|de agora en diante serás|finxe|fai como se|actúa como|fai de|interpreta o papel|compórtate como",
    ),
    "is": _v(  # Icelandic
        "hunsaðu|hunsið|gleymdu|gleymið|ekki fylgja|fylgdu ekki|farðu ekki eftir|virtu að vettugi|líttu framhjá|horfðu fram hjá",
        "leiðbeining|fyrirmæl|reglur|reglurnar|reglunum|reglum|skipun|skipanir|prompt|kvaðning",
        "fyrri|allar|öll$|öllum|öllu$|hér að ofan|upprunaleg|upphafleg|kerfis",
        "sýndu|sýnið|skrifaðu|skrifið|endurtaktu|endurtakið|segðu mér|segið mér|birtu|prentaðu|afhjúpaðu|gefðu mér|hver eru|hvað er|hver er|hvað segja",
        "kerfisfyrirmæl|kerfisskilaboð|kerfiskvaðning|kerfisleiðbeining|fyrirmælin þín|leiðbeiningarnar þínar|upprunalegu fyrirmælin|upphaflegu fyrirmælin|falin fyrirmæli|orð fyrir orð|orðrétt|textann hér að ofan|allt hér að ofan|orðin hér að ofan",
        "án takmarkana|án nokkurra takmarkana|án reglna|án sía|án síu|án ritskoðunar|engar takmarkanir|engar reglur|óritskoðað|án siðferðis|án siðareglna",
        "þú ert núna|nú ert þú|nú ertu|héðan í frá ert þú|héðan í frá ertu|héðan í frá skaltu|frá og með núna ertu|láttu sem|þykstu vera|leiktu hlutverk|hagaðu þér eins og",
    ),
    "az": _v(  # Azerbaijani
        "nəzərə alma|nəzərə almayın|unut$|unudun|əməl etmə|əməl etməyin|məhəl qoyma|məhəl qoymayın|göz ardı et|diqqət yetirmə",
        "təlimat|göstəriş|qayda|əmr|prompt|direktiv",
        "əvvəlki|bütün|hamısını|yuxarıdakı|ilkin|orijinal|sistem",
        "göstər|göstərin|yaz$|yazın|təkrarla|təkrarlayın|deyin|açıqla|açıqlayın|çap et|nədir|nələrdir",
        "sistem promptu|sistem mesajı|sistem təlimat|təlimatlarını|təlimatlarınızı|ilkin təlimat|orijinal təlimat|gizli təlimat|sözbəsöz|söz-söz|hərfi-hərfinə|yuxarıdakı mətni|yuxarıdakı hər şeyi|yuxarıdakı sözləri",
        "heç bir məhdudiyyət|məhdudiyyət olmadan|məhdudiyyətlər olmadan|qaydasız|heç bir qayda|filtrsiz|senzurasız",
        "indi sən|İndi sən|sən indi|bundan sonra sən|kimi davran|rolunu oyna|olduğunu təsəvvür et|sən artıq|artıq sən",
    ),
    "kk": _v(  # Kazakh
        "елеме|елемеңіз|ұмыт$|ұмытыңыз|орындама|орындамаңыз|назар аударма|назар аудармаңыз|ескерме|ескермеңіз",
        "нұсқау|ереже|пәрмен|бұйрық|промпт",
        "алдыңғы|бұрынғы|барлық|жоғарыдағы|бастапқы|түпнұсқа|жүйелік",
        "көрсет|көрсетіңіз|айтыңыз|айтып бер|қайтала|қайталаңыз|жаз$|жазыңыз|шығар|қандай",
        "жүйелік промпт|жүйелік хабарлама|жүйелік нұсқау|сенің нұсқауларың|сіздің нұсқауларыңыз|бастапқы нұсқау|жасырын нұсқау|сөзбе-сөз|сөзбе сөз|жоғарыдағы мәтін|жоғарыдағының бәрін|жоғарыдағы сөздерді",
        "ешқандай шектеусіз|шектеулерсіз|ешқандай шектеу|ережесіз|ешқандай ережесіз|сүзгісіз|цензурасыз",
        "енді сен|сен енді|осыдан бастап сен|бұдан былай сен|болып көрін|рөлін ойна|сияқты әрекет ет",
    ),
    "uz": _v(  # Uzbek (Latin)
        "e'tiborsiz qoldir|e’tiborsiz qoldir|eʼtiborsiz qoldir|e'tibor berma|e’tibor berma|eʼtibor berma|unut$|unuting|bajarma|bajarmang|amal qilma|amal qilmang|rioya qilma|rioya qilmang",
        "ko'rsatma|ko‘rsatma|koʻrsatma|ko’rsatma|qoida|buyruq|prompt|yo'riqnoma|yo‘riqnoma|yoʻriqnoma",
        "oldingi|avvalgi|barcha|hamma|yuqoridagi|boshlang'ich|boshlang‘ich|boshlangʻich|tizim",
        "ko'rsat$|ko‘rsat$|koʻrsat$|ko’rsat$|ko'rsating|ko‘rsating|koʻrsating|ayting|takrorla|takrorlang|yoz$|yozing|chiqar|oshkor qil|nima$|nimadan iborat|qanday",
        "tizim prompti|tizim xabari|tizim ko'rsatma|tizim ko‘rsatma|tizim koʻrsatma|asl ko'rsatma|asl ko‘rsatma|asl koʻrsatma|yashirin ko'rsatma|yashirin ko‘rsatma|so'zma-so'z|so‘zma-so‘z|soʻzma-soʻz|so’zma-so’z|yuqoridagi matn|yuqoridagi hamma narsa|yuqoridagi so'zlarni|yuqoridagi so‘zlarni|yuqoridagi soʻzlarni",
        "hech qanday cheklovsiz|cheklovlarsiz|hech qanday cheklov|qoidalarsiz|filtrsiz|senzurasiz",
        "endi sen|sen endi|bundan buyon sen|hozirdan boshlab sen|kabi harakat qil|kabi o'zingni tut|kabi o‘zingni tut|rolini o'yna|rolini o‘yna|rolini oʻyna|deb tasavvur qil",
    ),
    "ka": _v(  # Georgian
        "უგულებელყავი|უგულებელყავით|დაივიწყე|დაივიწყეთ|არ მიჰყვე|არ მიყვე|ნუ მიჰყვები|ნუ დაემორჩილები|ყურადღებას ნუ მიაქცევ|ნუ გაითვალისწინებ",
        "ინსტრუქცი|მითითებ|წესებ|წესი|ბრძანებ|პრომპტ",
        "წინა|ყველა|ზემოთ|თავდაპირველ|საწყის|სისტემ",
        "მაჩვენე|მაჩვენეთ|აჩვენე|გამოიტანე|გაიმეორე|გაიმეორეთ|დაწერე|დაწერეთ|მითხარი|მითხარით|გაამჟღავნე|დაბეჭდე|რა არის|როგორია",
        "სისტემური პრომპტ|სისტემის პრომპტ|სისტემური შეტყობინებ|სისტემის შეტყობინებ|სისტემური ინსტრუქცი|შენი ინსტრუქციები|თქვენი ინსტრუქციები|თავდაპირველი ინსტრუქციები|საწყისი ინსტრუქციები|ფარული ინსტრუქციები|სიტყვასიტყვით|სიტყვა-სიტყვით|ზემოთ მოცემული ტექსტი|ყველაფერი ზემოთ|ზემოთ მოცემული სიტყვები|ზემოთ მოცემულ სიტყვებს|ზემოთ მოცემული სიტყვებ",
        "შეზღუდვების გარეშე|ყოველგვარი შეზღუდვის გარეშე|წესების გარეშე|ფილტრის გარეშე|ფილტრების გარეშე|ცენზურის გარეშე",
        "ახლა შენ ხარ|შენ ახლა ხარ|ამიერიდან შენ|ამ მომენტიდან შენ|თავი მოაჩვენე|როლი ითამაშე|ითამაშე როლი|მოიქეცი როგორც|წარმოიდგინე, რომ ხარ|წარმოიდგინე რომ ხარ|შენ ახლა|ახლა შენ",
    ),
    "hy": _v(  # Armenian
        "անտեսիր|անտեսեք|մոռացիր|մոռացեք|մի հետևիր|մի հետևեք|մի կատարիր|ուշադրություն մի դարձրու",
        "հրահանգ|կանոն|ցուցում|պրոմպտ|հրաման",
        "նախորդ|բոլոր|վերևի|վերը նշված|սկզբնական|համակարգ",
        "ցույց տուր|ցույց տվեք|կրկնիր|կրկնեք|գրիր|գրեք|ասա$|ասեք|բացահայտիր|տպիր|ինչ է|ինչն է|որոնք են|ինչպիսին են",
        "համակարգային պրոմպտ|համակարգի պրոմպտ|համակարգային հաղորդագրություն|համակարգի հաղորդագրություն|համակարգային հրահանգ|քո հրահանգներ|ձեր հրահանգներ|սկզբնական հրահանգներ|թաքնված հրահանգներ|բառ առ բառ|բառացի|վերևի տեքստ|վերևում գրված ամբողջ|վերևի բառերը|վերևում գրված բառերը",
        "առանց սահմանափակումների|առանց որևէ սահմանափակման|առանց կանոնների|առանց ֆիլտրերի|առանց գրաքննության",
        "հիմա դու|դու հիմա|այսուհետ դու|այս պահից դու|ձևացիր|ձևացրու|խաղա դերը|դերը խաղա|պահիր քեզ ինչպես|պատկերացրու, որ դու|պատկերացրու որ դու",
    ),
    "am": _v(  # Amharic
        "ችላ በል|ችላ በይ|ችላ ይበሉ|እርሳ$|እርሺ$|ይርሱ|አትከተል|አትከተሉ|አትታዘዝ",
        "መመሪያ|ትዕዛዝ|ትእዛዝ|ደንብ|ደንቦች|ሕግጋት|ፕሮምፕት",
        "ቀደም|ያለፉትን|ያለፈውን|ሁሉንም|ሁሉም|ከላይ ያለ|የመጀመሪያ|የሲስተም|የስርዓት|የቀደሙ|የቀድሞ",
        "አሳየኝ|አሳዩኝ|አሳይ$|ንገረኝ|ንገሩኝ|ድገም|ይድገሙ|ጻፍ$|ጻፉ$|ግለጽ|አትም|ምንድን ነው|ምንድነው|ምንድን ናቸው",
        "የሲስተም ፕሮምፕት|የሲስተም መልእክት|የስርዓት መመሪያ|የስርዓት መልእክት|መመሪያዎችህን|መመሪያዎችዎን|የመጀመሪያ መመሪያ|የተደበቁ መመሪያ|ቃል በቃል|ከላይ ያለውን ጽሑፍ|ከላይ ያለውን ሁሉ|ከላይ ያሉትን ቃላት",
        "ያለ ምንም ገደብ|ያለ ገደብ|ገደብ የለሽ|ያለ ደንብ|ያለ ህግ|ያለ ሳንሱር|ያለ ማጣሪያ",
        "አሁን አንተ|አንተ አሁን|አሁን አንቺ|ከአሁን ጀምሮ አንተ|ከአሁን ጀምሮ አንቺ|እንደሆንክ አስመስል|አስመስል|ሚና ተጫወት|ሚናውን ተጫወት",
    ),
    "zu": _v(  # Zulu
        "ziba$|zibani|ungazinaki|ningazinaki|ungayinaki|ningayinaki|khohlwa|khohlwani|ungalandeli|ningalandeli|ungayilandeli|ungazilandeli",
        "imiyalelo|yemiyalelo|emiyalelweni|iziyalezo|imithetho|yemithetho|imigomo|imiyalo|prompt",
        "yangaphambili|yangaphambilini|zangaphambili|zangaphambilini|yonke|zonke|engenhla|ephezulu|yokuqala|yesistimu|wesistimu|yohlelo",
        "ngikhombise|khombisa|bonisa|ngibonise|ngitshele|sitshele|phinda|bhala|veza|dalula",
        "i-prompt yesistimu|prompt yesistimu|umlayezo wesistimu|umyalezo wesistimu|imiyalelo yesistimu|imiyalelo yakho|imiyalelo yokuqala|imiyalelo efihliwe|izwi ngezwi|igama ngegama|umbhalo ongenhla|umbhalo ophezulu|konke okungenhla|amagama angenhla|amagama aphezulu",
        "ngaphandle kwemingcele|ngaphandle kwemikhawulo|ngaphandle kwemithetho|ngaphandle kokuvinjelwa|ngaphandle kokuhlunga|ngaphandle kwesihlungi|akukho mithetho|akukho mingcele|akukho mikhawulo",
        "manje ungu|manje wena ungu|kusukela manje ungu|kusukela manje wena|kusukela manje uzo|zenze sengathi|zenza sengathi|yenza sengathi|dlala indima|ziphathe njenge",
    ),
    "xh": _v(  # Xhosa
        "ungayihoyi|ningayihoyi|ungazihoyi|sukuyihoya|sukuzihoya|libala|libalani|ungalandeli|ningalandeli|ungayilandeli|ungazilandeli|yityeshele|zityeshele",
        "imiyalelo|yemiyalelo|imiyalezo|imithetho|yemithetho|imigaqo|iziyalelo|prompt",
        "yangaphambili|zangaphambili|yonke|zonke|engentla|ephezulu|yokuqala|yenkqubo|yesistim",
        "ndibonise|bonisa|ndixelele|xela|phinda|bhala|veza|tyhila|yintoni|ithini",
        "i-prompt yenkqubo|prompt yesistim|umyalezo wenkqubo|imiyalelo yenkqubo|imiyalelo yakho|imiyalelo yokuqala|imiyalelo efihliweyo|ilizwi ngelizwi|igama ngegama|umbhalo ongentla|konke okungentla|amagama angentla|amagama aphezulu",
        "ngaphandle kwemida|ngaphandle kwezithintelo|ngaphandle kwemithetho|ngaphandle kokuhluza|akukho mithetho|akukho mida|akukho zithintelo",
        "ngoku ungu|ngoku uyi|ukususela ngoku ungu|ukusukela ngoku ungu|ukususela ngoku uza|zenze ngathi|yenza ngathi|dlala indima|ziphathe njenge",
    ),
    "ha": _v(  # Hausa (with and without the hooked letters)
        "yi watsi da|manta da duk|ka manta da|ku manta da|ki manta da|kada ka bi|kada ku bi|kada ki bi|kar ka bi|kar ku bi|kada ka kula da|ka yi biris da",
        "umarni|umarnai|umarnin|dokoki|dokokin|ka'idoji|ka'idojin|ƙa'idoji|ƙa'idojin|jagorori|jagororin|prompt",
        "na baya|da suka gabata|duka|dukkan|gaba ɗaya|gaba daya|na sama|na asali|na farko|tsarin",
        "nuna min|nuna mini|nuna$|faɗa min|fada min|gaya min|gaya mini|maimaita|rubuta|buga|menene|mene ne|mecece",
        "umarnin tsarin|saƙon tsarin|sakon tsarin|prompt na tsarin|umarninka|umarninki|umarninku|umarnin asali|umarnin farko|umarnin da aka ɓoye|umarnin da aka boye|kalma da kalma|kalma bayan kalma|rubutun da ke sama|duk abin da ke sama|kalmomin da ke sama",
        "ba tare da wani takunkumi ba|ba tare da takunkumi ba|ba tare da iyaka ba|ba tare da ƙa'idoji ba|ba tare da ka'idoji ba|ba tare da dokoki ba|ba tare da tacewa ba|babu takunkumi|babu dokoki",
        "yanzu kai ne|kai yanzu|daga yanzu kai|daga yanzu ke|daga yanzu za ka|ka yi kamar|ki yi kamar|yi kamar kai|ka taka rawar",
    ),
    "so": _v(  # Somali
        "iska indho tir|ka indho tir|ha raacin|ha raacina|illow|ilow$|iska illow|ha dhegaysan|ha u hoggaansamin",
        "tilmaam|awaamiir|amarrada|amarro|xeerarka|xeerar|shuruucda|sharciyada|prompt",
        "hore|dhammaan|oo dhan|kor ku xusan|korka|asalka|nidaamka",
        "i tus|tus$|ii sheeg|ku celi|ku celceli|qor$|soo bandhig|daabac|muuji|waa maxay|maxay yihiin",
        "prompt-ka nidaamka|tilmaamaha nidaamka|fariinta nidaamka|farriinta nidaamka|tilmaamahaaga|tilmaamaha asalka ah|tilmaamaha qarsoon|erey erey|kelmad kelmad|qoraalka kore|wax kasta oo kor ku qoran|erayada kore|ereyada kore",
        "xaddid la'aan|xayiraad la'aan|xadidaad la'aan|sharci la'aan|xeer la'aan|shaandhayn la'aan|xayiraad ma leh|xaddid ma leh",
        "hadda waxaad tahay|hadda adigu waxaad tahay|hadda kadib waxaad|hadda laga bilaabo waxaad|hadda laga bilaabo adigu|iska dhig|u dhaqan sidii|doorka ciyaar|door ciyaar",
    ),
    "mk": _v(  # Macedonian
        "игнорирај|игнорирајте|заборави$|заборавете|не ги следи|не следи$|не ги почитувај|занемари$|занемарете",
        "инструкции|инструкциите|упатства|упатствата|правила$|правилата|наредби|насоки|промпт",
        "претходн|сите$|горенаведен|горн|оригиналн|почетн|системск",
        "покажи|покажете|прикажи|прикажете|повтори|повторете|откриј|откријте|кажи ми|кажете ми|напиши|напишете|испиши|кој е|која е|кои се|што е|какви се",
        "системскиот промпт|системски промпт|системската порака|системска порака|системските инструкции|твоите инструкции|вашите инструкции|почетните инструкции|оригиналните инструкции|збор по збор|текстот погоре|сè погоре|се погоре|зборовите погоре",
        "без ограничувања|без никакви ограничувања|без правила|без филтри|без цензура|нецензуриран|без никакви етички|без етички|без морал",
        "сега си|ти си сега|отсега си|отсега ти си|од сега си|од сега ти си|од овој момент си|од овој момент ти си|преправај се|глуми$|играј ја улогата|однесувај се како|замисли дека си",
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

# Within a sentence (danda, Urdu, Armenian and Ethiopic full stops, 。 included).
_GAP = r"[^.!?\n\u0964\u06d4\u0589\u1362\u3002]{0,60}?"
# Where a word marked "$" ends: no letter, digit or Indic vowel sign follows.
_END = r"(?![\w\u0900-\u0dff])"


def _alt(words: tuple[str, ...]) -> str:
    return (
        "(?:"
        + "|".join(
            re.escape(w[:-1]) + _END if w.endswith("$") else re.escape(w)
            for w in sorted(words, key=len, reverse=True)
        )
        + ")"
    )


_AS_WRITTEN = ("hi", "bn", "mr", "ne", "gu", "ta", "te", "th", "fa", "ur", "ar", "ja_zh_ko")


def _start(language: str) -> str:
    """Latin, Greek, Cyrillic and Hebrew words start at a word boundary; Indic, Thai and Arabic-script
    ones are matched as written (see the module docstring)."""
    return "" if language in _AS_WRITTEN else r"\b"


# Keys the English rules run on ("ignor", "instr", "promp", "syste"...): a stem with such a key
# ("ignorera", "instruksi", "prompt sistem") is looked for in every text with "system" in it.
_TAKEN = frozenset(k for r in _OWN_RULES for k in r.keys if k.isascii())
# English words that are also words of these phrases: as a stem they would run a language's
# rule on much English text.
_ENGLISH = frozenset(
    "am an as at be by do go he if in is it me my no of on or so to up us we cap dine over sense sin tale".split()
)


def _anchor(stem: str) -> str:
    """``stem``, or when the English rules take its key its longest other word whose key they do
    not take ("sense cap restricció" is found by "sense", Albanian "pa censurë" by "pa")."""
    if stem_key(stem) not in _TAKEN:
        return stem
    words = [w for w in stem.split() if len(w) > 1 and w not in _ENGLISH and stem_key(w) not in _TAKEN]
    return max(words, key=len) if words else stem


def _stems(words: tuple[str, ...]) -> tuple[str, ...]:
    """A rule is keyed on the words its every match holds (the verb that sets aside, the system
    prompt named, the limits lifted), not on "all" or "rules", which a language's everyday text is
    full of (and which Russian, Serbian and Bulgarian, or Hindi and Marathi, share). A word whose
    key the English rules take and that has no other ("ignorera") stays: only a text with a word
    that begins like it looks for it, and a look is one ``str.find``."""
    return tuple(dict.fromkeys(_anchor(w.removesuffix("$")) for w in words))


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
                _stems(v.ignore),
                f"{ign}{_GAP}{prev}{_GAP}{ins}|{ign}{_GAP}{ins}{_GAP}{prev}|{prev}{_GAP}{ins}{_GAP}{ign}|{ins}{_GAP}{prev}{_GAP}{ign}",
                reach=(160, 160),
            )
        )
        out.append(
            rule(
                f"ignore_what_{language}",
                Category.INSTRUCTION_OVERRIDE,
                (0.45, 0.6),
                _stems(v.ignore),
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
            _stems(v.system_prompt),
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
            _stems(v.no_limits),
            rf"{persona}[^\n]{{0,160}}?{limits}|{limits}[^\n]{{0,160}}?{persona}",
            reach=(200, 200),
        )
    )
    return out


RULES: list[Rule] = [r for language, v in VOCABULARY.items() for r in _rules(language, v)]
