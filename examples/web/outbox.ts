import nodemailer from 'nodemailer'

/** One mail as the outbox page shows it. */
export interface OutboxMail {
  to: string
  subject: string
  text: string
  at: Date
}

/**
 * Development mail: nodemailer builds each message as it would for SMTP, but its JSON
 * transport hands it back instead of sending it, and the outbox page lists it. Swap the
 * transport for `nodemailer.createTransport({ host, port, auth })` in production.
 */
export class Outbox {
  readonly mails: OutboxMail[] = []
  private readonly transport = nodemailer.createTransport({ jsonTransport: true })

  async send(mail: { to: string; subject: string; text: string }): Promise<void> {
    const info = await this.transport.sendMail({ from: 'latchkey example <no-reply@example.test>', ...mail })
    const sent = JSON.parse(info.message as unknown as string) as { subject: string; text: string }
    this.mails.unshift({ to: mail.to, subject: sent.subject, text: sent.text, at: new Date() })
  }
}
