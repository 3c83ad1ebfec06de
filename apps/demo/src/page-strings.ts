import type { FieldError, FieldErrorCode, Locale } from '@otp-relay/client';

/**
 * The page's own words in the languages it is translated into (English, Spanish, Arabic,
 * Japanese); the other locales of the picker fall back to English here while the API still sends
 * their messages in their language. Field errors are built from the API's code and params, never
 * from its English message.
 */

export type TextKey =
  | 'title'
  | 'lead'
  | 'language'
  | 'email'
  | 'username'
  | 'usernameHint'
  | 'firstName'
  | 'lastName'
  | 'password'
  | 'passwordHint'
  | 'sendBy'
  | 'mobile'
  | 'mobileHint'
  | 'submit'
  | 'fixField'
  | 'fixFields';

/** A field error's words; `{min}`, `{max}`, `{max_bytes}`, `{allowed}`, `{expected}` are its params. */
type FieldErrorTexts = Record<FieldErrorCode, string> & { formats: Record<string, string> };

interface PageStrings {
  texts: Record<TextKey, string>;
  fieldErrors: FieldErrorTexts;
}

const EN: PageStrings = {
  texts: {
    title: 'Create your account',
    lead: 'We will send you a one-time code to confirm it is you.',
    language: 'Language',
    email: 'Email address',
    username: 'Username',
    usernameHint: '3–30 letters, digits, underscores, dots or hyphens.',
    firstName: 'First name',
    lastName: 'Last name',
    password: 'Password',
    passwordHint: 'At least 8 characters.',
    sendBy: 'Send my code by',
    mobile: 'Mobile number',
    mobileHint: 'With the country code, e.g. +1 415 555 2671.',
    submit: 'Send my code',
    fixField: 'Please fix the highlighted field.',
    fixFields: 'Please fix the highlighted fields.',
  },
  fieldErrors: {
    required: 'This is required.',
    unknown_field: 'This field is not accepted.',
    invalid_type: 'This value has the wrong type.',
    too_short: 'Use at least {min} characters.',
    too_long: 'Use at most {max} characters.',
    invalid_format: 'This is not in the right format.',
    not_allowed: 'Choose one of: {allowed}.',
    too_many_keys: 'Use at most {max} entries.',
    too_large: 'This is too large (at most {max_bytes} bytes).',
    taken: 'That username is already taken — try another one.',
    not_mobile: 'Enter a mobile number: landlines cannot receive codes.',
    country_not_allowed: 'We cannot send codes to numbers of this country.',
    unavailable: 'That way of sending codes is not available — choose email instead.',
    not_found: 'This sign-up is no longer known.',
    rejected: 'The human check failed or expired — complete it again.',
    invalid: 'This value is not valid.',
    formats: {
      email: 'Enter a valid email address, like ann@example.com.',
      phone: 'Enter your mobile number with the country code, e.g. +1 415 555 2671.',
      username: 'Use 3–30 letters, digits, underscores, dots or hyphens.',
      name: 'Use letters, spaces, apostrophes, dots or hyphens (up to 100).',
      otp: 'Enter the code as digits only.',
    },
  },
};

const ES: PageStrings = {
  texts: {
    title: 'Crea tu cuenta',
    lead: 'Te enviaremos un código de un solo uso para confirmar que eres tú.',
    language: 'Idioma',
    email: 'Correo electrónico',
    username: 'Nombre de usuario',
    usernameHint: 'De 3 a 30 letras, dígitos, guiones bajos, puntos o guiones.',
    firstName: 'Nombre',
    lastName: 'Apellido',
    password: 'Contraseña',
    passwordHint: 'Al menos 8 caracteres.',
    sendBy: 'Enviar mi código por',
    mobile: 'Número de móvil',
    mobileHint: 'Con el prefijo del país, p. ej. +34 612 345 678.',
    submit: 'Enviar mi código',
    fixField: 'Corrige el campo marcado.',
    fixFields: 'Corrige los campos marcados.',
  },
  fieldErrors: {
    required: 'Este campo es obligatorio.',
    unknown_field: 'Este campo no se acepta.',
    invalid_type: 'Este valor no es del tipo correcto.',
    too_short: 'Usa al menos {min} caracteres.',
    too_long: 'Usa como máximo {max} caracteres.',
    invalid_format: 'El formato no es correcto.',
    not_allowed: 'Elige una de estas opciones: {allowed}.',
    too_many_keys: 'Usa como máximo {max} entradas.',
    too_large: 'Es demasiado grande (como máximo {max_bytes} bytes).',
    taken: 'Ese nombre de usuario ya está en uso; prueba con otro.',
    not_mobile: 'Introduce un número de móvil: los fijos no reciben códigos.',
    country_not_allowed: 'No enviamos códigos a números de este país.',
    unavailable: 'Esa forma de envío no está disponible; elige el correo.',
    not_found: 'Este registro ya no existe.',
    rejected: 'La verificación humana falló o caducó; vuelve a completarla.',
    invalid: 'Este valor no es válido.',
    formats: {
      email: 'Introduce un correo válido, como ana@example.com.',
      phone: 'Introduce tu móvil con el prefijo del país, p. ej. +34 612 345 678.',
      username: 'Usa de 3 a 30 letras, dígitos, guiones bajos, puntos o guiones.',
      name: 'Usa letras, espacios, apóstrofos, puntos o guiones (hasta 100).',
      otp: 'Escribe el código solo con dígitos.',
    },
  },
};

const AR: PageStrings = {
  texts: {
    title: 'أنشئ حسابك',
    lead: 'سنرسل إليك رمزًا لمرة واحدة للتأكد من هويتك.',
    language: 'اللغة',
    email: 'البريد الإلكتروني',
    username: 'اسم المستخدم',
    usernameHint: 'من 3 إلى 30 حرفًا أو رقمًا أو شرطة سفلية أو نقطة أو شرطة.',
    firstName: 'الاسم الأول',
    lastName: 'اسم العائلة',
    password: 'كلمة المرور',
    passwordHint: '8 أحرف على الأقل.',
    sendBy: 'أرسل الرمز عبر',
    mobile: 'رقم الجوال',
    mobileHint: 'مع رمز الدولة، مثل ‎+971 50 123 4567.',
    submit: 'أرسل الرمز',
    fixField: 'يُرجى تصحيح الحقل المحدد.',
    fixFields: 'يُرجى تصحيح الحقول المحددة.',
  },
  fieldErrors: {
    required: 'هذا الحقل مطلوب.',
    unknown_field: 'هذا الحقل غير مقبول.',
    invalid_type: 'نوع هذه القيمة غير صحيح.',
    too_short: 'استخدم {min} أحرف على الأقل.',
    too_long: 'استخدم {max} حرفًا على الأكثر.',
    invalid_format: 'الصيغة غير صحيحة.',
    not_allowed: 'اختر واحدًا مما يلي: {allowed}.',
    too_many_keys: 'استخدم {max} إدخالًا على الأكثر.',
    too_large: 'الحجم كبير جدًا (بحد أقصى {max_bytes} بايت).',
    taken: 'اسم المستخدم هذا مستخدم بالفعل، جرّب اسمًا آخر.',
    not_mobile: 'أدخل رقم جوال: الهواتف الأرضية لا تستقبل الرموز.',
    country_not_allowed: 'لا نرسل رموزًا إلى أرقام هذه الدولة.',
    unavailable: 'طريقة الإرسال هذه غير متاحة، اختر البريد الإلكتروني.',
    not_found: 'عملية التسجيل هذه لم تعد موجودة.',
    rejected: 'فشل التحقق البشري أو انتهت صلاحيته، أكمله مرة أخرى.',
    invalid: 'هذه القيمة غير صالحة.',
    formats: {
      email: 'أدخل بريدًا إلكترونيًا صالحًا، مثل ann@example.com.',
      phone: 'أدخل رقم جوالك مع رمز الدولة.',
      username: 'استخدم من 3 إلى 30 حرفًا أو رقمًا أو شرطة سفلية أو نقطة أو شرطة.',
      name: 'استخدم الحروف والمسافات والفواصل العليا والنقاط والشرطات (حتى 100).',
      otp: 'أدخل الرمز بالأرقام فقط.',
    },
  },
};

const JA: PageStrings = {
  texts: {
    title: 'アカウントを作成',
    lead: 'ご本人確認のため、ワンタイムコードをお送りします。',
    language: '言語',
    email: 'メールアドレス',
    username: 'ユーザー名',
    usernameHint: '3〜30文字の英数字、アンダースコア、ドット、ハイフン。',
    firstName: '名',
    lastName: '姓',
    password: 'パスワード',
    passwordHint: '8文字以上。',
    sendBy: 'コードの送信方法',
    mobile: '携帯電話番号',
    mobileHint: '国番号付きで入力してください（例: +81 90 1234 5678）。',
    submit: 'コードを送信',
    fixField: '強調表示された項目を修正してください。',
    fixFields: '強調表示された項目を修正してください。',
  },
  fieldErrors: {
    required: 'この項目は必須です。',
    unknown_field: 'この項目は受け付けられません。',
    invalid_type: '値の種類が正しくありません。',
    too_short: '{min}文字以上で入力してください。',
    too_long: '{max}文字以内で入力してください。',
    invalid_format: '形式が正しくありません。',
    not_allowed: '次のいずれかを選んでください: {allowed}。',
    too_many_keys: '{max}件以内にしてください。',
    too_large: '大きすぎます（最大 {max_bytes} バイト）。',
    taken: 'このユーザー名は既に使われています。別の名前をお試しください。',
    not_mobile: '携帯電話番号を入力してください（固定電話にはコードを送れません）。',
    country_not_allowed: 'この国の番号にはコードを送信できません。',
    unavailable: 'この送信方法は利用できません。メールを選んでください。',
    not_found: 'この登録は見つかりません。',
    rejected: '人間確認に失敗したか期限切れです。もう一度行ってください。',
    invalid: 'この値は無効です。',
    formats: {
      email: '有効なメールアドレスを入力してください（例: ann@example.com）。',
      phone: '国番号付きの携帯電話番号を入力してください。',
      username: '3〜30文字の英数字、アンダースコア、ドット、ハイフンを使ってください。',
      name: '文字、スペース、アポストロフィ、ドット、ハイフンを使ってください（100文字まで）。',
      otp: 'コードは数字のみで入力してください。',
    },
  },
};

/** The locales with the page's own translation; the picker's other locales read English here. */
const TRANSLATED: Partial<Record<Locale, PageStrings>> = { en: EN, es: ES, ar: AR, ja: JA };

function stringsOf(locale: Locale): PageStrings {
  return TRANSLATED[locale] ?? EN;
}

export function pageText(locale: Locale, key: TextKey): string {
  return stringsOf(locale).texts[key];
}

/** Puts a field error's params into its sentence; a list is joined the locale's way. */
function fill(template: string, params: Record<string, unknown>, locale: Locale): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (Array.isArray(value)) {
      return new Intl.ListFormat(locale, { type: 'disjunction' }).format(value.map(String));
    }
    return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : String(value ?? whole);
  });
}

/** The sentence for a field error in the chosen language, from its code and params only. */
export function fieldErrorText(locale: Locale, error: FieldError): string {
  const texts = stringsOf(locale).fieldErrors;
  if (error.code === 'invalid_format') {
    const { format } = error.params;
    return (format && texts.formats[format]) ?? texts.invalid_format;
  }
  // A code newer than this page: the generic sentence, still in the chosen language.
  const template = texts[error.code] ?? texts.invalid;
  return fill(template, error.params, locale);
}
