import { useEffect, useState } from 'react';
import { isImageType, type UploadInfo } from '../lib/client';
import { useBlob } from './Avatar';
import { useChat, useEngine } from './chat';
import { Modal } from './dialogs';
import { formatBytes } from './format';

// A message's attachments: images inline (opening larger), other files as
// downloads. Content is fetched with the access token and shown through
// blob URLs.

export function Attachment({ id }: { id: string }) {
  const engine = useEngine();
  const info = useChat((s) => s.uploads[id]);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (info) return;
    let live = true;
    engine.uploadInfo(id).catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [engine, id, info]);
  if (!info) {
    return failed ? (
      <span className="file unavailable">Attachment unavailable</span>
    ) : (
      <span className="file loading">
        <span className="spinner small" aria-hidden="true" /> Attachment…
      </span>
    );
  }
  return isImageType(info.contentType) ? <ImageAttachment info={info} /> : <FileLink info={info} />;
}

function ImageAttachment({ info }: { info: UploadInfo }) {
  const engine = useEngine();
  const state = useBlob(engine.files, info.id);
  const [open, setOpen] = useState(false);
  const name = info.name || 'Image';
  if (state?.status === 'error') return <FileLink info={info} />;
  if (state?.status !== 'ready') {
    return (
      <span className="thumb placeholder" role="img" aria-label={`${name} (loading)`}>
        <span className="spinner small" aria-hidden="true" />
      </span>
    );
  }
  return (
    <>
      <button type="button" className="thumb-button" onClick={() => setOpen(true)} aria-label={`Open ${name}`}>
        <img className="thumb" src={state.url} alt={name} data-upload-id={info.id} draggable={false} />
      </button>
      {open && (
        <Modal title={name} onClose={() => setOpen(false)} wide>
          <img className="full-image" src={state.url} alt={name} />
          <div className="modal-actions">
            <DownloadButton info={info} className="secondary" />
          </div>
        </Modal>
      )}
    </>
  );
}

function FileLink({ info }: { info: UploadInfo }) {
  return <DownloadButton info={info} className="file" withIcon />;
}

function DownloadButton({ info, className, withIcon = false }: { info: UploadInfo; className: string; withIcon?: boolean }) {
  const engine = useEngine();
  const [state, setState] = useState<'idle' | 'busy' | 'failed'>('idle');
  const name = info.name || 'file';
  const download = () => {
    setState('busy');
    engine.downloadFile(info.id, name).then(
      () => setState('idle'),
      () => setState('failed'),
    );
  };
  return (
    <button
      type="button"
      className={className}
      onClick={download}
      disabled={state === 'busy'}
      aria-label={`Download ${name}, ${formatBytes(info.size)}`}
      data-upload-id={info.id}
    >
      {withIcon && (
        <span className="file-icon" aria-hidden="true">
          {info.contentType.startsWith('application/pdf') ? 'PDF' : 'TXT'}
        </span>
      )}
      <span className="file-name">{withIcon ? name : 'Download'}</span>
      {withIcon && <span className="file-size">{state === 'failed' ? 'Download failed: retry' : state === 'busy' ? 'Downloading…' : formatBytes(info.size)}</span>}
    </button>
  );
}

/** Text with http(s) links as anchors; everything else stays a text node. */
