/**
 * The mails Tessera sends, in English and Korean, each as plain text and as simple HTML (no
 * images, no remote content, no script). Every value put into the HTML is escaped: the username
 * is the user's own choice.
 */
import type { MailLanguage } from './store.ts'

export type MailContent =
  | { kind: 'password_reset'; username: string; link: string; validMinutes: number }
  | { kind: 'email_verification'; username: string; link: string; validHours: number }
  | { kind: 'recovery_code_used'; username: string; at: Date; codesLeft: number }
  | { kind: 'password_changed'; username: string; at: Date; how: 'changed' | 'reset' }

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

interface Parts {
  subject: string
  /** Paragraphs; a link is set apart after the first. */
  paragraphs: string[]
  link?: { url: string; label: string }
}

function describeInstant(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

const english = (content: MailContent): Parts => {
  switch (content.kind) {
    case 'password_reset':
      return {
        subject: 'Reset your password',
        paragraphs: [
          `Someone (we hope you) asked to reset the password of the account "${content.username}".`,
          `The link works once, for ${content.validMinutes} minutes. If you did not ask for it, ignore this mail: your password stays as it is.`,
        ],
        link: { url: content.link, label: 'Choose a new password' },
      }
    case 'email_verification':
      return {
        subject: 'Confirm your email address',
        paragraphs: [
          `This address was given for the account "${content.username}". Open the link to confirm it is yours.`,
          `The link works once, for ${content.validHours} hours. If this was not you, ignore this mail.`,
        ],
        link: { url: content.link, label: 'Confirm this address' },
      }
    case 'recovery_code_used':
      return {
        subject: 'A recovery code was used',
        paragraphs: [
          `A recovery code of the account "${content.username}" was used to sign in at ${describeInstant(content.at)}. ${content.codesLeft} codes are left.`,
          'If this was not you, change your password and make new recovery codes at once.',
        ],
      }
    case 'password_changed':
      return {
        subject: content.how === 'reset' ? 'Your password was reset' : 'Your password was changed',
        paragraphs: [
          `The password of the account "${content.username}" was ${content.how === 'reset' ? 'reset by email' : 'changed'} at ${describeInstant(content.at)}. Every session of the account was signed out.`,
          'If this was not you, reset your password at once and tell your administrator.',
        ],
      }
  }
}

const korean = (content: MailContent): Parts => {
  switch (content.kind) {
    case 'password_reset':
      return {
        subject: '비밀번호 재설정',
        paragraphs: [
          `"${content.username}" 계정의 비밀번호 재설정이 요청되었습니다.`,
          `이 링크는 ${content.validMinutes}분 동안 한 번만 사용할 수 있습니다. 요청하지 않으셨다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.`,
        ],
        link: { url: content.link, label: '새 비밀번호 정하기' },
      }
    case 'email_verification':
      return {
        subject: '이메일 주소 확인',
        paragraphs: [
          `"${content.username}" 계정에 이 주소가 등록되었습니다. 본인의 주소라면 링크를 열어 확인해 주세요.`,
          `이 링크는 ${content.validHours}시간 동안 한 번만 사용할 수 있습니다. 본인이 아니라면 이 메일을 무시하세요.`,
        ],
        link: { url: content.link, label: '이 주소 확인하기' },
      }
    case 'recovery_code_used':
      return {
        subject: '복구 코드가 사용되었습니다',
        paragraphs: [
          `${describeInstant(content.at)}에 "${content.username}" 계정의 복구 코드로 로그인했습니다. 남은 코드는 ${content.codesLeft}개입니다.`,
          '본인이 아니라면 즉시 비밀번호를 바꾸고 새 복구 코드를 만드세요.',
        ],
      }
    case 'password_changed':
      return {
        subject: content.how === 'reset' ? '비밀번호가 재설정되었습니다' : '비밀번호가 변경되었습니다',
        paragraphs: [
          `${describeInstant(content.at)}에 "${content.username}" 계정의 비밀번호가 ${content.how === 'reset' ? '이메일로 재설정' : '변경'}되었습니다. 계정의 모든 세션이 로그아웃되었습니다.`,
          '본인이 아니라면 즉시 비밀번호를 재설정하고 관리자에게 알리세요.',
        ],
      }
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

export function renderMail(content: MailContent, language: MailLanguage): RenderedMail {
  const parts = language === 'ko' ? korean(content) : english(content)
  const [first = '', ...rest] = parts.paragraphs
  const textBlocks = [first, ...(parts.link ? [`${parts.link.label}:\n${parts.link.url}`] : []), ...rest]
  const htmlBlocks = [
    `<p>${escapeHtml(first)}</p>`,
    ...(parts.link ? [`<p><a href="${escapeHtml(parts.link.url)}">${escapeHtml(parts.link.label)}</a></p>`] : []),
    ...rest.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
  ]
  return {
    subject: parts.subject,
    text: `${textBlocks.join('\n\n')}\n`,
    html: `<!doctype html><html lang="${language}"><meta charset="utf-8"><body>${htmlBlocks.join('')}</body></html>`,
  }
}

/** The language of a request's Accept-Language (RFC 9110 §12.5.4): Korean when preferred over English. */
export function chooseMailLanguage(acceptLanguage: string | undefined): MailLanguage {
  let best: { language: MailLanguage; weight: number } = { language: 'en', weight: 0 }
  for (const entry of (acceptLanguage ?? '').slice(0, 512).split(',')) {
    const [tag = '', ...parameters] = entry.trim().toLowerCase().split(';')
    const quality = parameters
      .map((parameter) => /^\s*q=([0-9.]+)\s*$/.exec(parameter)?.[1])
      .find((value) => value !== undefined)
    const weight = quality === undefined ? 1 : Number(quality)
    const language = tag === 'ko' || tag.startsWith('ko-') ? 'ko' : tag === 'en' || tag.startsWith('en-') ? 'en' : null
    if (language && Number.isFinite(weight) && weight > best.weight) best = { language, weight }
  }
  return best.language
}
