// The inspector's note and photo go in two requests: the note (with a status change, or on its
// own), then the photo. Notes go into the ledger for good, so whatever was stored leaves the form:
// pressing again after a failed photo must send the photo only, never the same note twice.

export type SubmitOutcome =
  /** Nothing was stored: the note and the photo stay for another try. */
  | { stored: 'nothing'; error: unknown }
  /** The status change or note is stored; the photo is not. */
  | { stored: 'note'; photoError: unknown }
  | { stored: 'all' }

/** Send the note (or the status change carrying it), then the photo; each step is skipped when null. */
export async function sendNoteThenPhoto(
  sendNote: (() => Promise<unknown>) | null,
  sendPhoto: (() => Promise<unknown>) | null,
): Promise<SubmitOutcome> {
  try {
    if (sendNote) await sendNote()
  } catch (error) {
    return { stored: 'nothing', error }
  }
  try {
    if (sendPhoto) await sendPhoto()
  } catch (photoError) {
    return { stored: 'note', photoError }
  }
  return { stored: 'all' }
}

/** What leaves the form after a submit: whatever the service stored. */
export function formAfter(outcome: SubmitOutcome): { clearNote: boolean; clearPhoto: boolean } {
  return { clearNote: outcome.stored !== 'nothing', clearPhoto: outcome.stored === 'all' }
}

/** The photo failed after the note was stored: say the note is kept, and that only the photo is to resend. */
export function photoFailedMessage(reason: string, noteStored: boolean): string {
  const kept = noteStored ? '说明已保存，无需重填；' : ''
  return `照片上传失败：${reason}。${kept}请重新选择照片后点「仅提交备注/照片」上传照片。`
}
